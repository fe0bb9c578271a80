using System;
using System.Management.Automation;

namespace AosMail.Internal
{
    /// <summary>
    /// Lets -Priority take 2, "2", "High" or [AosPriority]::High, and lets an out-of-range number
    /// through as an undefined enum value, so that the cmdlet reports it as AosInvalidPriority
    /// (naming the value, carrying the pipeline row) instead of a generic binding failure.
    /// </summary>
    internal sealed class AosPriorityTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            switch (value)
            {
                case null:
                case AosPriority _:
                    return value;
                case string text when string.IsNullOrWhiteSpace(text):
                    return null;
                case string text when int.TryParse(text.Trim(), out int number):
                    return (AosPriority)number;
                case string text when Enum.TryParse(text.Trim(), ignoreCase: true, out AosPriority named):
                    return named;
                case int number:
                    return (AosPriority)number;
                case long number when number >= int.MinValue && number <= int.MaxValue:
                    return (AosPriority)(int)number;
                case byte or short:
                    return (AosPriority)Convert.ToInt32(value);
                default:
                    return inputData;
            }
        }
    }
}

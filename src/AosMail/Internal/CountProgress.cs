using System;
using System.Diagnostics;
using System.Management.Automation;
using AosMail.Engine;

namespace AosMail.Internal
{
    /// <summary>
    /// The progress record of work counted in items (rows sent, messages saved) whose total a
    /// pipeline does not tell: shown from the second item on, so a single item shows no bar, and
    /// at most every <see cref="AosTransferProgress.Interval"/>, as PowerShell's own cmdlets throttle theirs.
    /// </summary>
    internal sealed class CountProgress
    {
        private readonly int _activityId;
        private readonly string _activity;
        private readonly Func<bool> _wanted;
        private readonly Stopwatch _clock = new Stopwatch();
        private bool? _shown;
        private ProgressRecord? _record;

        /// <param name="wanted">Asked once, at the second item: whether progress records are wanted at all.</param>
        public CountProgress(int activityId, string activity, Func<bool> wanted)
        {
            _activityId = activityId;
            _activity = activity;
            _wanted = wanted;
        }

        /// <summary>The record to write after item <paramref name="count"/>, or null when it is not the time to.</summary>
        public ProgressRecord? Next(long count, string status)
        {
            if (count < 2) return null;
            if (_record is not null && _clock.ElapsedMilliseconds < (long)AosTransferProgress.Interval.TotalMilliseconds) return null;
            _shown ??= _wanted();
            if (!_shown.Value) return null;
            _record ??= new ProgressRecord(_activityId, _activity, status);
            _record.StatusDescription = status;
            _clock.Restart();
            return _record;
        }

        /// <summary>The closing record once the work has ended, or null when none was shown.</summary>
        public ProgressRecord? Complete()
        {
            if (_record is null) return null;
            _record.RecordType = ProgressRecordType.Completed;
            ProgressRecord last = _record;
            _record = null;
            return last;
        }
    }
}

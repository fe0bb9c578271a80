namespace System.Management.Automation
{
    public interface IModuleAssemblyInitializer
    {
        void OnImport();
    }

    public interface IModuleAssemblyCleanup
    {
        void OnRemove(PSModuleInfo psModuleInfo);
    }

    public sealed class PSModuleInfo
    {
    }
}

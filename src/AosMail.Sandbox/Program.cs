// Placeholder until the sandbox lands.
System.Console.WriteLine("sandbox not built yet");

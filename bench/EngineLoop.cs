// Compiled by bench/EngineLoop.ps1 in a pwsh of its own, against the engine assembly alone: the
// module's engine sending the bulk rows with no PowerShell per request, to set beside the raw loop.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Security;
using System.Threading;
using AosMail.Engine;

public static class AosEngineLoop
{
    /// <summary>The bulk rows as the cmdlet prepares them (To, Subject, Body).</summary>
    public static List<AosPreparedSubmission> Prepare(IList<string[]> rows)
    {
        var prepared = new List<AosPreparedSubmission>(rows.Count);
        foreach (var row in rows)
        {
            var message = new AosMessage { Subject = row[1], Body = row[2] };
            message.To.Add(row[0]);
            prepared.Add(AosFormBuilder.Prepare(message, AosSubmitKind.Send));
        }
        return prepared;
    }

    /// <summary>A logged-in connection over plain HTTP, as New-AosSession -AllowUnencryptedAuthentication makes one.</summary>
    public static AosConnection Connect(string server, string user, string password)
    {
        var secure = new SecureString();
        foreach (var c in password) secure.AppendChar(c);
        var connection = new AosConnection(new AosConnectionSettings { Server = new Uri(server), UserName = user, Password = secure, AllowUnencryptedAuthentication = true });
        connection.EnsureLoggedInAsync(NullAosLog.Instance, CancellationToken.None).GetAwaiter().GetResult();
        return connection;
    }

    /// <summary>Submits every form in a loop, as the cmdlet's bridge waits for each; returns the seconds taken.</summary>
    public static double SubmitAll(AosConnection connection, IList<AosPreparedSubmission> prepared)
    {
        var watch = Stopwatch.StartNew();
        foreach (var submission in prepared)
        {
            connection.SubmitAsync(submission, NullAosLog.Instance, CancellationToken.None).GetAwaiter().GetResult();
        }
        return watch.Elapsed.TotalSeconds;
    }
}

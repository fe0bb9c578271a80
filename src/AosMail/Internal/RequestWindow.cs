using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace AosMail.Internal
{
    /// <summary>
    /// The rows of one pipeline whose requests are in flight at once (Send-AosMessage
    /// -ThrottleLimit). Rows go in in input order, each with its started work (or a work already
    /// finished, such as a row found invalid before any request), and come out in that same
    /// order once their work has finished, so that results and errors are written as the rows
    /// came in. At most <see cref="Limit"/> rows are held. No PowerShell types: the cmdlet waits
    /// through the delegate it passes (pumping its log meanwhile) and writes what comes out on
    /// the pipeline thread.
    /// </summary>
    internal sealed class RequestWindow<TRow>
    {
        private readonly Queue<(TRow Row, Task Work)> _rows = new Queue<(TRow, Task)>();

        public RequestWindow(int limit)
        {
            if (limit < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(limit));
            }

            Limit = limit;
        }

        public int Limit { get; }

        public int Count => _rows.Count;

        public void Add(TRow row, Task work) => _rows.Enqueue((row, work));

        /// <summary>
        /// The rows at the head whose work has finished, in input order. While more than
        /// <paramref name="keep"/> rows are held, waits for the oldest: <see cref="Limit"/> - 1
        /// leaves room for the next row, 0 takes them all. Every row goes through
        /// <paramref name="wait"/> before it comes out, finished or not, so that what its work
        /// logged is written before its result.
        /// </summary>
        public IEnumerable<(TRow Row, Task Work)> TakeFinished(Action<Task> wait, int keep)
        {
            while (_rows.Count > 0)
            {
                var head = _rows.Peek();
                if (!head.Work.IsCompleted && _rows.Count <= keep)
                {
                    yield break;
                }

                wait(head.Work);
                _rows.Dequeue();
                yield return head;
            }
        }

        /// <summary>Empties the window: every row still held, in input order, finished or not.</summary>
        public List<(TRow Row, Task Work)> TakeAll()
        {
            var all = new List<(TRow, Task)>(_rows);
            _rows.Clear();
            return all;
        }
    }
}

using System.Globalization;
using System.Text;

namespace SpeechEmotion.Core.IO;

/// <summary>Writes through a temp file in the same folder and renames it into place: never half a file.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <param name="durable">Also flush to disk before the rename (model files); caches that verify themselves need not.</param>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool durable = false)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        string temp = path + ".tmp-" + Environment.ProcessId + "-" + Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                if (durable) stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e)
        {
            // The system names the temp file; say which file could not be written, and that nothing is half-written.
            string reason = e.HResult == 28 || e.Message.Contains("No space left", StringComparison.Ordinal) ? "the disk is full" : e.Message.Replace(temp, "its temp file");
            throw new IOException($"{path}: cannot be written ({reason}); the previous version, if any, is unchanged and nothing was left half-written.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"{path}: cannot be written (permission denied: {e.Message.Replace(temp, "its temp file")}).", e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

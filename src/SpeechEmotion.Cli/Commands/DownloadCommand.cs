using System.CommandLine;
using SpeechEmotion.Core;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Cli.Commands;

/// <summary><c>ser download tess|ravdess|emodb|cremad [--to DIR]</c>: fetches, verifies and unpacks a corpus from its official record.</summary>
public static class DownloadCommand
{
    public static Command Create(TextWriter output)
    {
        string names = string.Join(", ", Datasets.All.Select(d => d.Name));
        var dataset = new Argument<string>("DATASET") { Description = $"The dataset to fetch: {names}." };
        var to = new Option<string?>("--to") { Description = "Destination folder [default: data/DATASET in the repository]" };
        var url = new Option<string?>("--url") { Description = "Where to fetch the zip from [default: the dataset's official record: " +
            string.Join("; ", Datasets.All.Select(d => $"{d.Name} {d.Url}")) + "]" };
        var filesUrl = new Option<string?>("--files-url") { Description = $"For cremad: where each listed file is fetched from [default: {Datasets.CremaD.FilesUrl}]" };
        var retries = new Option<int>("--retries") { Description = "Resume attempts after a broken connection.", DefaultValueFactory = _ => 5 };
        var command = new Command("download", $"Download a corpus ({names}) from its official record, resumable and verified.") { dataset, to, url, filesUrl, retries };
        command.SetAction(async (parse, cancellation) =>
        {
            var chosen = Datasets.Find(parse.GetValue(dataset)!);
            if (parse.GetValue(retries) < 0) throw new OptionsException($"--retries must be 0 or more, got {parse.GetValue(retries)}.");
            string destination = Path.GetFullPath(parse.GetValue(to) ?? DataLocation.Default(chosen.Name));
            output.WriteLine($"Downloading {chosen.Title} ({chosen.Licence}; {chosen.Citation}) into {destination}");
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            int lastPercent = -1;
            var result = await new CorpusDownloader(http).DownloadAsync(chosen, parse.GetValue(url) ?? chosen.Url, destination, parse.GetValue(retries), (received, total) =>
            {
                int percent = total is > 0 ? (int)(received * 100 / total.Value) : -1;
                if (percent / 10 != lastPercent / 10) { output.WriteLine(total is > 0 ? $"  {received:N0} of {total:N0} bytes ({percent}%)" : $"  {received:N0} bytes"); lastPercent = percent; }
            }, cancellation, parse.GetValue(filesUrl));
            var index = CorpusIndex.Load(destination);
            output.WriteLine($"Unpacked {result.Files} files ({result.Bytes:N0} bytes, {result.Attempts} attempt(s)); {index.Utterances.Count} utterances in the {index.Layout} layout, {index.Problems.Count} problem(s).");
            return CliApp.Ok;
        });
        return command;
    }
}

using SpeechEmotion.Audio.Tests;

namespace SpeechEmotion.Inference.Tests;

/// <summary>
/// The emotion timeline (#15): a generated recording of known utterances with silences between them is cut where the
/// utterances are (within 0.1 s), and each segment gets the label the utterance gets alone.
/// </summary>
public sealed class TimelineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Segments_fall_on_the_utterances_and_each_is_labelled_as_alone()
    {
        const int rate = 16000;
        int[] utterances = [0, 4, 7, 2, 9];
        // A seeded (untrained) model under which these utterances are not all one label, so the labels can be told apart.
        var recognizer = Enumerable.Range(1, 40).Select(seed => EmotionRecognizer.FromModels([TestModels.Frames((ulong)seed)]))
            .First(r => utterances.Select(i => r.Predict(TestModels.Voice(i, rate), rate).Label).Distinct().Count() > 1);
        var recording = new List<float>();
        var truth = new List<(double Start, double End, string Label)>();
        foreach (int index in utterances)
        {
            recording.AddRange(new float[(int)(0.7 * rate)]); // a pause
            var clip = TestModels.Voice(index, rate);          // its own 0.1 s of silence either side
            int pad = rate / 10;
            truth.Add(((recording.Count + pad) / (double)rate, (recording.Count + clip.Length - pad) / (double)rate, recognizer.Predict(clip, rate).Label));
            recording.AddRange(clip);
        }
        recording.AddRange(new float[rate / 2]);
        string path = Path.Combine(_folder.Path, "conversation.wav");
        File.WriteAllBytes(path, TestAudio.Wav([recording.ToArray()], rate));

        var timeline = recognizer.PredictTimeline(path).Segments;
        Assert.Equal(truth.Count, timeline.Count);
        for (int k = 0; k < truth.Count; k++)
        {
            Assert.InRange(timeline[k].StartSeconds, truth[k].Start - 0.1, truth[k].Start + 0.1);
            Assert.InRange(timeline[k].EndSeconds, truth[k].End - 0.1, truth[k].End + 0.1);
            Assert.Equal(truth[k].Label, timeline[k].Prediction.Label);
        }
        Assert.True(truth.Select(t => t.Label).Distinct().Count() > 1, "the recording should hold more than one label for the test to mean anything");
    }

    [Fact]
    public void Long_speech_is_cut_into_segments_no_longer_than_the_maximum_and_settings_are_checked()
    {
        const int rate = 8000;
        var tone = TestAudio.Tone(180, 9.5, rate, amplitude: 0.3);
        string path = Path.Combine(_folder.Path, "monologue.wav");
        File.WriteAllBytes(path, TestAudio.Wav([tone], rate));
        var timeline = EmotionRecognizer.FromModels([TestModels.Frames(3)]).PredictTimeline(path, new TimelineOptions(maxSegmentSeconds: 4)).Segments;
        Assert.Equal(3, timeline.Count);
        Assert.All(timeline, s => Assert.InRange(s.EndSeconds - s.StartSeconds, 3.0, 4.0));
        Assert.Equal(0, timeline[0].StartSeconds, 0.05);
        Assert.Equal(9.5, timeline[^1].EndSeconds, 0.05);
        Assert.Contains("TimelineOptions.ThresholdDb", Assert.Throws<SpeechEmotion.Core.OptionsException>(() => new TimelineOptions(thresholdDb: 1)).Message);
        Assert.Contains("TimelineOptions.MaxSegmentSeconds", Assert.Throws<SpeechEmotion.Core.OptionsException>(() => new TimelineOptions(maxSegmentSeconds: 0.4)).Message);
    }
}

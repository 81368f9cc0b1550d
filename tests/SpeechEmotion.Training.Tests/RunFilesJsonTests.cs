using System.Text;
using System.Text.Json;

namespace SpeechEmotion.Training.Tests;

/// <summary>The metrics extras are written by hand (no reflection, for Native AOT): every kind of value they hold.</summary>
public class RunFilesJsonTests
{
    [Fact]
    public void EveryKindOfExtraIsWritten()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
            RunFiles.WriteValue(w, new Dictionary<string, object>
            {
                ["seeds"] = new List<object> { 1UL, 18446744073709551615UL },
                ["count"] = 3, ["big"] = 5_000_000_000L, ["ratio"] = 0.95, ["single"] = 0.5f, ["missing"] = double.NaN,
                ["name"] = "tess", ["flag"] = true, ["sizes"] = new[] { 2, 3 },
                ["nested"] = new Dictionary<string, object> { ["labels"] = new[] { "a", "b" } },
            });
        Assert.Equal("""{"seeds":[1,18446744073709551615],"count":3,"big":5000000000,"ratio":0.95,"single":0.5,"missing":null,"name":"tess","flag":true,"sizes":[2,3],"nested":{"labels":["a","b"]}}""",
            Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Throws<ArgumentException>(() => RunFiles.WriteValue(new Utf8JsonWriter(new MemoryStream()), new object()));
    }
}

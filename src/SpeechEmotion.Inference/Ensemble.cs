using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>Several models that predict together: the same labels and front end, their probabilities averaged.</summary>
public static class Ensemble
{
    /// <summary>Models that can predict together from one set of features: the same labels and the same front end.</summary>
    public static void RequireCompatible(IReadOnlyList<ModelBundle> ensemble)
    {
        if (ensemble.Count == 0) throw new OptionsException("An ensemble needs at least one model.");
        ModelBundle.RequireSameLabels(ensemble);
        var first = ensemble[0];
        foreach (var other in ensemble.Skip(1))
            if (other.Recipe.FrontEnd.Serialize() != first.Recipe.FrontEnd.Serialize())
                throw new OptionsException($"{other.Source} and {first.Source} compute different features ({other.Recipe.FrontEnd.Serialize()} vs {first.Recipe.FrontEnd.Serialize()}): an ensemble needs the same front end.");
    }

    /// <summary>The members' probabilities averaged element by element, each scaled by 1/count then summed in order
    /// (one model's come back unchanged); evaluation and prediction both average this way.</summary>
    public static float[] Mean(IReadOnlyList<float[]> members)
    {
        var mean = new float[members[0].Length];
        foreach (var probabilities in members)
            for (int i = 0; i < mean.Length; i++) mean[i] += probabilities[i] / members.Count;
        return mean;
    }
}

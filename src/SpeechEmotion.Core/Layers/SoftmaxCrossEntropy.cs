using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// Softmax with cross-entropy, as torch.nn.CrossEntropyLoss: loss = Σ_b w[y_b]·(−log p_b[y_b]) / Σ_b w[y_b]
/// (the plain mean over the batch when no class weights are given). Numerically stable: log-sum-exp is taken
/// after subtracting each row's maximum. The gradient is dlogits_b = w[y_b]/Σw · (p_b − onehot(y_b)).
/// With label smoothing ε (torch's label_smoothing, no class weights) the target is q = (1 − ε)·onehot(y) + ε/C, the
/// loss the mean over the batch of −Σ_c q_c·log p_c and the gradient (p_b − q_b)/B.
/// Sample weights s_b (instead of class weights; with or without smoothing) weigh each sample's whole loss ℓ_b:
/// loss = Σ_b s_b·ℓ_b / Σ_b s_b, gradient s_b/Σs · (p_b − q_b).
/// Soft targets t [B, C] (each row a distribution; mixup's mixture of two labels) take the one-hot label's place:
/// q = (1 − ε)·t_b + ε/C, ℓ_b = −Σ_c q_c·log p_c, the gradient (p_b − q_b) as above; the labels are then only checked.
/// Without them the one-hot path runs as it always has (the same bits).
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>logits: [B, C] → probabilities [B, C], each row's maximum subtracted before exp.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, int batch, int classes, Span<float> probabilities)
    {
        Check.Length(logits, (long)batch * classes, "Softmax logits [B, C]");
        Check.Length(probabilities, (long)batch * classes, "Softmax probabilities [B, C]");
        for (int b = 0; b < batch; b++)
        {
            // As Forward computes them (double precision, index order): the same bits at any vector width, where
            // TensorPrimitives' Exp and Sum are not.
            ReadOnlySpan<float> row = logits.Slice(b * classes, classes);
            Span<float> p = probabilities.Slice(b * classes, classes);
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(row[c] - max);
            double logSum = Math.Log(sum);
            for (int c = 0; c < classes; c++) p[c] = Subnormal.Flush((float)Math.Exp(row[c] - max - logSum));
        }
    }

    /// <summary>logits: [B, C] → probabilities [B, C]; returns the loss.</summary>
    public static float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int classes,
        Span<float> probabilities, ReadOnlySpan<float> classWeights = default, float labelSmoothing = 0, ReadOnlySpan<float> sampleWeights = default,
        ReadOnlySpan<float> targets = default)
    {
        CheckSmoothing(labelSmoothing, classWeights, classes);
        CheckSampleWeights(sampleWeights, classWeights, batch);
        CheckTargets(targets, classWeights, batch, classes);
        Check.Length(logits, (long)batch * classes, "SoftmaxCrossEntropy logits [B, C]");
        Check.Length(probabilities, (long)batch * classes, "SoftmaxCrossEntropy probabilities [B, C]");
        if (labels.Length < batch) throw new ShapeException($"SoftmaxCrossEntropy: {labels.Length} labels for a batch of {batch}.");
        if (!classWeights.IsEmpty && classWeights.Length != classes)
            throw new ShapeException($"SoftmaxCrossEntropy: {classWeights.Length} class weights for {classes} classes.");
        double loss = 0, weightSum = 0;
        for (int b = 0; b < batch; b++)
        {
            int label = labels[b];
            if ((uint)label >= (uint)classes) throw new ShapeException($"SoftmaxCrossEntropy: label {label} of sample {b} is outside 0…{classes - 1}.");
            ReadOnlySpan<float> row = logits.Slice(b * classes, classes);
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(row[c] - max);
            double logSum = Math.Log(sum);
            Span<float> p = probabilities.Slice(b * classes, classes);
            for (int c = 0; c < classes; c++) p[c] = Subnormal.Flush((float)Math.Exp(row[c] - max - logSum));
            double weight = Weight(b, label, classWeights, sampleWeights);
            double nll = logSum - (row[label] - max);
            if (!targets.IsEmpty)
            {
                // −Σ_c t_c·log p_c, summed in index order.
                ReadOnlySpan<float> target = targets.Slice(b * classes, classes);
                nll = 0;
                for (int c = 0; c < classes; c++) nll += target[c] * (logSum - (row[c] - max));
            }
            if (labelSmoothing > 0)
            {
                // −Σ_c (ε/C)·log p_c = ε·(logSum − mean_c(row_c − max)), summed in index order.
                double shifted = 0;
                for (int c = 0; c < classes; c++) shifted += row[c] - max;
                nll = (1 - labelSmoothing) * nll + labelSmoothing * (logSum - shifted / classes);
            }
            loss += weight * nll;
            weightSum += weight;
        }
        return (float)(loss / weightSum);
    }

    /// <summary>Adds the loss gradient into dlogits [B, C], from the probabilities of <see cref="Forward"/>.</summary>
    public static void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, int batch, int classes,
        Span<float> dLogits, ReadOnlySpan<float> classWeights = default, float labelSmoothing = 0, ReadOnlySpan<float> sampleWeights = default,
        ReadOnlySpan<float> targets = default)
    {
        Check.Length(dLogits, (long)batch * classes, "SoftmaxCrossEntropy dlogits [B, C]");
        CheckSmoothing(labelSmoothing, classWeights, classes);
        CheckSampleWeights(sampleWeights, classWeights, batch);
        CheckTargets(targets, classWeights, batch, classes);
        float offTarget = labelSmoothing / classes, onTarget = 1 - labelSmoothing + offTarget;
        double weightSum = 0;
        for (int b = 0; b < batch; b++) weightSum += Weight(b, labels[b], classWeights, sampleWeights);
        for (int b = 0; b < batch; b++)
        {
            float scale = (float)(Weight(b, labels[b], classWeights, sampleWeights) / weightSum);
            if (!targets.IsEmpty)
            {
                for (int c = 0; c < classes; c++)
                    dLogits[b * classes + c] = Subnormal.Flush(dLogits[b * classes + c] +
                        scale * (probabilities[b * classes + c] - ((1 - labelSmoothing) * targets[b * classes + c] + offTarget)));
                continue;
            }
            for (int c = 0; c < classes; c++)
                dLogits[b * classes + c] = Subnormal.Flush(dLogits[b * classes + c] + scale * (probabilities[b * classes + c] - (c == labels[b] ? onTarget : offTarget)));
        }
    }

    private static double Weight(int sample, int label, ReadOnlySpan<float> classWeights, ReadOnlySpan<float> sampleWeights) =>
        !classWeights.IsEmpty ? classWeights[label] : !sampleWeights.IsEmpty ? sampleWeights[sample] : 1.0;

    private static void CheckSampleWeights(ReadOnlySpan<float> sampleWeights, ReadOnlySpan<float> classWeights, int batch)
    {
        if (sampleWeights.IsEmpty) return;
        if (!classWeights.IsEmpty) throw new ShapeException("SoftmaxCrossEntropy: class weights and sample weights exclude each other.");
        if (sampleWeights.Length < batch) throw new ShapeException($"SoftmaxCrossEntropy: {sampleWeights.Length} sample weights for a batch of {batch}.");
        for (int b = 0; b < batch; b++)
            if (!(sampleWeights[b] > 0 && float.IsFinite(sampleWeights[b])))
                throw new ShapeException($"SoftmaxCrossEntropy: sample weight {b} must be positive and finite, got {sampleWeights[b]}.");
    }

    /// <summary>Soft targets, when given: [B, C], every entry finite and ≥ 0, every row summing to 1 (within 10⁻⁴); not with class weights.</summary>
    private static void CheckTargets(ReadOnlySpan<float> targets, ReadOnlySpan<float> classWeights, int batch, int classes)
    {
        if (targets.IsEmpty) return;
        if (!classWeights.IsEmpty) throw new ShapeException("SoftmaxCrossEntropy: soft targets with class weights are not defined here.");
        Check.Length(targets, (long)batch * classes, "SoftmaxCrossEntropy targets [B, C]");
        for (int b = 0; b < batch; b++)
        {
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                float t = targets[b * classes + c];
                if (!(t >= 0 && float.IsFinite(t))) throw new ShapeException($"SoftmaxCrossEntropy: target {c} of sample {b} must be finite and ≥ 0, got {t}.");
                sum += t;
            }
            if (Math.Abs(sum - 1) > 1e-4) throw new ShapeException($"SoftmaxCrossEntropy: the targets of sample {b} sum to {sum}, not 1.");
        }
    }

    private static void CheckSmoothing(float labelSmoothing, ReadOnlySpan<float> classWeights, int classes)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ShapeException($"SoftmaxCrossEntropy: label smoothing must be in [0, 1), got {labelSmoothing}.");
        if (labelSmoothing > 0 && !classWeights.IsEmpty)
            throw new ShapeException($"SoftmaxCrossEntropy: label smoothing with class weights is not defined here ({classes} class weights given).");
    }
}

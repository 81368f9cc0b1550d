#!/usr/bin/env python3
"""Checks the Core README's snippet: a SpeechEmotion model run in PyTorch gives ser predict's probabilities.

usage: model_in_torch.py SER MODEL WAV...   (SER: the ser command, e.g. "dotnet src/SpeechEmotion.Cli/bin/Release/net10.0/ser.dll")
The features come from `ser features --json --model MODEL` (exactly the model's front end); they are standardised with the model's training-side statistics, as ser predict does for one file under
global or speaker normalisation. Prints the largest difference per file; exits 1 if any exceeds 1e-5.
"""
import json, shlex, struct, subprocess, sys
import torch


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header.pop("__metadata__")["speech_emotion"])
    tensors = {name: torch.frombuffer(bytearray(raw[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]]),
                                      dtype=torch.float32).reshape(t["shape"]) for name, t in header.items()}
    a = meta["architecture"]
    lstm = torch.nn.LSTM(a["input_size"], a["hidden_size"], a["layers"], bidirectional=a["bidirectional"])
    lstm.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("lstm.")})
    sizes = [a["hidden_size"] * (2 if a["bidirectional"] else 1)] + a["dense"] + [a["classes"]]
    head = [torch.nn.Linear(i, o) for i, o in zip(sizes, sizes[1:])]
    for k, layer in enumerate(head):
        layer.weight.data, layer.bias.data = tensors[f"head.{k}.weight"], tensors[f"head.{k}.bias"]
    meta["attention"] = tensors.get("pool.attention")
    return meta, lstm, head


def predict(meta, lstm, head, features):
    with torch.no_grad():
        out, (h, _) = lstm(features.unsqueeze(1))
        if meta["architecture"]["pooling"] == "mean":
            x = out.mean(0)
        elif meta["architecture"]["pooling"] == "attention":
            alpha = torch.softmax(out[:, 0] @ meta["attention"], 0)   # [T]: one weight per frame
            x = (alpha[:, None] * out[:, 0]).sum(0, keepdim=True)
        else:
            x = torch.cat([h[-2], h[-1]], -1) if lstm.bidirectional else h[-1]
        for layer in head[:-1]:
            x = torch.relu(layer(x))
        return dict(zip(meta["labels"], torch.softmax(head[-1](x) / meta.get("temperature", 1.0), -1)[0].tolist()))


def main():
    ser, model, wavs = shlex.split(sys.argv[1]), sys.argv[2], sys.argv[3:]
    meta, lstm, head = load(model)
    if meta["recipe"] != "frames" or meta["normalization"] == "utterance":
        sys.exit("this check covers the frames recipe with global or speaker normalisation")
    mean = torch.tensor(meta["statistics"]["mean"]); std = torch.tensor(meta["statistics"]["std"])
    worst = 0.0
    for wav in wavs:
        frames = json.loads(subprocess.run(ser + ["features", wav, "--json", "--model", model],
                                           check=True, capture_output=True, text=True).stdout)["frames"]
        ours = predict(meta, lstm, head, (torch.tensor(frames, dtype=torch.float32) - mean) / std)
        theirs = json.loads(subprocess.run(ser + ["predict", "--model", model, wav, "--json"],
                                           check=True, capture_output=True, text=True).stdout)[0]["probabilities"]
        difference = max(abs(ours[k] - theirs[k]) for k in ours)
        worst = max(worst, difference)
        print(f"{wav}: max |torch - ser| = {difference:.2e}  ({max(ours, key=ours.get)})")
    print(f"largest difference {worst:.2e} over {len(wavs)} files")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()

"""Classification and calibration metrics (numpy only)."""
import numpy as np

from stance_format import LABELS


def classification_report(y_true, y_pred, labels=LABELS):
    """macro-F1, accuracy, F1-pn (mean F1 of the two polar classes), per-class P/R/F1, confusion."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)  # rows: gold, columns: predicted
    np.add.at(cm, (y_true, y_pred), 1)
    per_class, f1s = {}, []
    for c, name in enumerate(labels):
        tp = cm[c, c]
        p = tp / cm[:, c].sum() if cm[:, c].sum() else 0.0
        r = tp / cm[c, :].sum() if cm[c, :].sum() else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_class[name] = {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(cm[c, :].sum())}
        f1s.append(f)
    return {
        "n": int(len(y_true)),
        "macro_f1": float(np.mean(f1s)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "f1_pn": float((per_class[labels[0]]["f1"] + per_class[labels[-1]]["f1"]) / 2),
        "per_class": per_class,
        "confusion": {"rows_gold_cols_pred": list(labels), "matrix": cm.tolist()},
    }


def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits, y, temperature=1.0):
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def ece(probs, y, n_bins=15):
    """Expected calibration error over equal-width confidence bins of the top-class probability."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(total)


def fit_temperature(logits, y, lo=0.05, hi=20.0, iters=100):
    """The T > 0 minimising NLL(logits / T): golden-section search on log T (NLL is unimodal in T)."""
    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(logits, y, np.exp(c)), nll(logits, y, np.exp(d))
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(logits, y, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(logits, y, np.exp(d))
    return float(np.exp((a + b) / 2))


def contrast_report(y_true, y_pred, sentences):
    """Metrics on the pairs whose sentence has targets with different gold labels: where the
    sentence's overall tone cannot be right for every actor (target attribution). Also the share
    of those sentences whose targets all got one predicted label, and of those all predicted
    neutral (the polar actor missed, not the tone spread), as `stance eval`'s
    `attribution.uniform_prediction_rate` and `uniform_neutral_rate`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels_of, predicted_of = {}, {}
    for sentence, label, predicted in zip(sentences, y_true, y_pred):
        labels_of.setdefault(sentence, set()).add(int(label))
        predicted_of.setdefault(sentence, set()).add(int(predicted))
    idx = np.array([len(labels_of[s]) > 1 for s in sentences])
    if not idx.any():
        return {"n": 0}
    res = classification_report(y_true[idx], y_pred[idx])
    contrast = [s for s in labels_of if len(labels_of[s]) > 1]
    uniform = sum(len(predicted_of[s]) == 1 for s in contrast) / len(contrast)
    neutral = sum(predicted_of[s] == {LABELS.index("neutral")} for s in contrast) / len(contrast)
    return {"n": res["n"], "macro_f1": res["macro_f1"], "accuracy": res["accuracy"],
            "sentences": len(contrast), "uniform_prediction_rate": uniform, "uniform_neutral_rate": neutral}


def aggregate_report(y_true, probs, actors, articles, min_group=3):
    """What a corpus reader sees: per-actor gold vs predicted mean score, Pearson r of the
    (article, actor) group means with >= `min_group` pairs, and the opposite-polarity rate.

    Gold score: -1 / 0 / +1 for unfavorable / neutral / favorable; predicted score:
    p_favorable - p_unfavorable (the library's `score`). The same definitions as
    `stance eval`'s `aggregate` object.
    """
    y_true = np.asarray(y_true)
    gold = y_true.astype(np.float64) - 1.0
    pred = probs[:, 2].astype(np.float64) - probs[:, 0].astype(np.float64)
    pred_label = probs.argmax(1)
    opposite = ((y_true == 0) & (pred_label == 2)) | ((y_true == 2) & (pred_label == 0))
    per_actor = {}
    for actor in sorted(set(actors)):
        idx = np.array([a == actor for a in actors])
        per_actor[actor] = {"n": int(idx.sum()), "gold_mean": float(gold[idx].mean()),
                            "predicted_mean": float(pred[idx].mean()),
                            "difference": float(pred[idx].mean() - gold[idx].mean())}
    groups = {}
    for k, key in enumerate(zip(articles, actors)):
        if key[0] is not None:
            groups.setdefault(key, []).append(k)
    big = [np.array(v) for v in groups.values() if len(v) >= min_group]
    r = None
    if len(big) >= 3:
        g = np.array([gold[v].mean() for v in big])
        p = np.array([pred[v].mean() for v in big])
        if g.std() > 0 and p.std() > 0:
            r = float(np.corrcoef(g, p)[0, 1])
    return {"opposite_polarity_rate": float(opposite.mean()) if len(y_true) else 0.0, "per_actor": per_actor,
            "article_actor_pearson": {"groups": len(big), "r": r}}

"""Task-adaptive pretraining: masked-language-model steps on op-ed text before fine-tuning.

    python tapt.py --name tapt-f3 --holdout-fold 3       # -> runs/tapt-f3/best/model.safetensors
    HOLDOUT=3 NAME=taptnat-f3 bash natural.sh --init-from runs/tapt-f3/best

all-MiniLM-L6-v2 learnt its language from web text and its last training from sentence pairs;
our users' text is op-eds about states. Before the stance head is trained, the encoder keeps
learning to fill in masked words of op-ed sentences: the sentences and sentences before of
opeds/train.jsonl and opeds/natural.jsonl. Labels are not read. The articles of the held-out
natural fold are left out (their text too), and so are the dev splits, so that a fold's
held-out measure stays honest.

The packaged backbone has no masked-language-model head: a fresh one (dense, GELU, LayerNorm,
then the word embeddings as the output layer, as BERT ties them) is trained alone for
--head-steps before the encoder joins. The word embeddings stay frozen, as fine-tuning keeps
them, so the vocabulary the bundle quantizes is the backbone's own.

The output is a full stance-model checkpoint (encoder plus a freshly initialised head) that
train.py --init-from loads.
"""
import argparse
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from torch import nn

from stance_format import NATURAL, article_fold, article_of, load_tokenizer
from stance_model import (
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    TRAINING_DIR,
    backbone_of,
    base_vocab,
    build_model,
    command_line,
    merged_state_dict,
    pad_batch,
    seed_everything,
    write_json,
)
from train import bucketed_batches

OPED_FILES = ("opeds/train.jsonl", "opeds/natural.jsonl")
MAX_TOKENS = 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="output goes to runs/<name>/")
    p.add_argument("--runs-dir", default=str(TRAINING_DIR / "runs"))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--holdout-fold", type=int, default=-1, help="leave this natural fold's articles out")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--head-steps", type=int, default=150, help="steps that train the new MLM head alone")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate")
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--mask-rate", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke test)")
    return p.parse_args(argv)


def oped_sentences(data_dir, holdout_fold, folds):
    """Distinct op-ed sentences and sentences before, without the held-out fold's articles."""
    seen, texts = set(), []
    for name in OPED_FILES:
        with open(Path(data_dir) / name, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                if name == NATURAL and holdout_fold >= 0 and article_fold(article_of(row), folds) == holdout_fold:
                    continue
                for text in (row.get("context_before") or "", row["sentence_normalized"]):
                    if text and text not in seen:
                        seen.add(text)
                        texts.append(text)
    return texts


class MaskedLmHead(nn.Module):
    """BERT's prediction head with its output layer tied to the (frozen) word embeddings."""

    def __init__(self, hidden, word_embeddings, n_vocab, eps):
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden, eps=eps))
        self.word_embeddings = word_embeddings
        self.n_vocab = n_vocab
        self.bias = nn.Parameter(torch.zeros(n_vocab))

    def forward(self, states):
        return self.transform(states) @ self.word_embeddings.weight[: self.n_vocab].T + self.bias


def mask_tokens(ids, special, mask_id, n_vocab, rate, gen):
    """BERT's masking: `rate` of the real tokens are predicted; of those 80% become [MASK],
    10% a random word, 10% stay. Returns (inputs, targets with -100 where nothing is predicted)."""
    targets = ids.clone()
    candidates = ~special
    chosen = (torch.rand(ids.shape, generator=gen) < rate) & candidates
    targets[~chosen] = -100
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=gen)
    inputs[chosen & (roll < 0.8)] = mask_id
    random_words = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[random_words] = torch.randint(n_vocab, ids.shape, generator=gen)[random_words]
    return inputs, targets


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    run_dir = Path(args.runs_dir) / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(run_dir / "tapt.log", "a", encoding="utf-8")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    tok = load_tokenizer(args.tokenizer)
    if backbone_of(tok) != "minilm":
        raise SystemExit("tapt.py: only the MiniLM backbone (its BERT WordPiece vocabulary) is supported")
    mask_id = tok.token_to_id("[MASK]")
    pad_id, n_vocab = tok.token_to_id("[PAD]"), base_vocab("minilm")
    special_ids = torch.tensor([tok.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")])

    texts = oped_sentences(args.data_dir, args.holdout_fold, args.folds)
    encoded = [e.ids[:MAX_TOKENS - 1] + [e.ids[-1]] if len(e.ids) > MAX_TOKENS else e.ids
               for e in tok.encode_batch(texts)]
    log(f"{command_line()}\n{len(texts)} sentences, {sum(map(len, encoded))} tokens")

    model = build_model(tok, attn_implementation="sdpa")
    bert = model.bert
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    head = MaskedLmHead(bert.config.hidden_size, bert.embeddings.word_embeddings, n_vocab,
                        bert.config.layer_norm_eps)
    started = time.time()
    step = train_masked_lm(bert, head, encoded, (pad_id, mask_id, special_ids, n_vocab), args, log)

    from safetensors.torch import save_file

    (run_dir / "best").mkdir(exist_ok=True)
    save_file(merged_state_dict(model), str(run_dir / "best" / "model.safetensors"))
    # The run record a fine-tune started from here points to (write_bundle.py's `continued_from`):
    # no epoch over labelled data, the masked-word steps named.
    write_json(run_dir / "config.json", {"command": command_line(), "epochs": 0, "mlm_epochs": args.epochs,
                                         "steps": step, "sentences": len(texts),
                                         "holdout_fold": args.holdout_fold, "seed": args.seed})
    write_json(run_dir / "summary.json", {"train_minutes": (time.time() - started) / 60})
    log(f"saved {run_dir / 'best'}")


def train_masked_lm(bert, head, encoded, tokens, args, log):
    """The head alone for --head-steps, then head and encoder for --epochs; returns the steps run."""
    pad_id, mask_id, special_ids, n_vocab = tokens
    encoder_params = [p for p in bert.parameters() if p.requires_grad]
    head_params = [p for n, p in head.named_parameters() if not n.startswith("word_embeddings")]
    opt = torch.optim.AdamW([{"params": encoder_params, "lr": 0.0}, {"params": head_params, "lr": args.head_lr}],
                            weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    lengths = np.array([len(row) for row in encoded])
    gen = torch.Generator().manual_seed(args.seed)
    joint_steps = math.ceil(len(encoded) / args.batch_size) * args.epochs
    if args.max_steps:
        joint_steps = max(1, min(joint_steps, args.max_steps - args.head_steps))
    total = args.head_steps + joint_steps
    step, window = 0, []
    bert.train()
    head.train()
    while step < total:
        for group in bucketed_batches(lengths, args.batch_size, rng):
            if step >= total:
                break
            set_learning_rates(opt, step, args.head_steps, joint_steps, args)
            rows = [encoded[i] for i in group]
            ids, attention, _ = (torch.from_numpy(a) for a in pad_batch(rows, [[]] * len(rows), pad_id))
            inputs, targets = mask_tokens(ids, torch.isin(ids, special_ids), mask_id, n_vocab, args.mask_rate, gen)
            states = bert(input_ids=inputs, attention_mask=attention).last_hidden_state
            chosen = targets != -100
            loss = nn.functional.cross_entropy(head(states[chosen]), targets[chosen])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder_params + head_params, 1.0)
            opt.step()
            step += 1
            window.append(loss.item())
            if step % 50 == 0 or step == total:
                log(f"step {step}/{total} mlm loss {np.mean(window):.4f}")
                window = []
    return step


def set_learning_rates(opt, step, head_steps, joint_steps, args):
    """The head alone for `head_steps`; then both, 6% warm-up and a linear decay to zero."""
    encoder, head = opt.param_groups
    if step < head_steps:
        encoder["lr"], head["lr"] = 0.0, args.head_lr
        return
    joint = step - head_steps
    warm = max(1, int(0.06 * joint_steps))
    scale = joint / warm if joint < warm else max(0.0, (joint_steps - joint) / max(1, joint_steps - warm))
    encoder["lr"], head["lr"] = args.lr * scale, args.head_lr * scale


if __name__ == "__main__":
    main()

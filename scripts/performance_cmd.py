"""`readdsp performance train|evaluate`: train the performance model on shared data, measure it on held-out pieces."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from readdsp.core.errors import ReaDDSPError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("performance", help="train or evaluate the expressive performance model")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train the velocity/duration/timing/pitch LSTMs (resumable)")
    train.add_argument("data", type=Path, help="the performance/ folder (vienna4x22, asap, wjazzd inside)")
    train.add_argument("--run-dir", type=Path, required=True)
    train.add_argument("-o", "--output", type=Path, required=True, help="bundle to write (.safetensors)")
    train.add_argument("--steps", type=int, default=3000)
    train.add_argument("--time-budget", type=float, default=None, help="seconds for this run (rerun to resume)")
    train.add_argument("--chorales", type=int, default=120, help="Bach chorales for the pitch network")
    train.add_argument("--no-jazz", action="store_true", help="leave Weimar Jazz out of the duration network")
    train.set_defaults(func=_train)
    evaluate = actions.add_parser("evaluate", help="held-out metrics into the bundle's sidecar and model card")
    evaluate.add_argument("bundle", type=Path)
    evaluate.add_argument("data", type=Path, help="the performance/ folder")
    evaluate.add_argument("--card", type=Path, default=None, help="write the model card here")
    evaluate.set_defaults(func=_evaluate)


def load_pieces(data: Path, jazz: bool = True) -> list:
    """Every performed piece under `data` (Vienna 4x22, ASAP and, unless told not to, Weimar Jazz)."""
    from readdsp.training.performance_data import asap_pieces, jazz_pieces, vienna_pieces

    if not data.is_dir():
        raise ReaDDSPError("performance data folder not found", data)
    warnings.filterwarnings("ignore", module="partitura")
    pieces = list(vienna_pieces(data / "vienna4x22")) + list(asap_pieces(data / "asap"))
    if jazz and (data / "wjazzd").is_dir():
        pieces += list(jazz_pieces(data / "wjazzd"))
    if not pieces:
        raise ReaDDSPError("no performances found (expected vienna4x22/ and asap/ inside)", data)
    return pieces


def _train(args: argparse.Namespace) -> int:
    import torch

    from readdsp.training.performance_train import bach_lines, train_performance

    torch.set_num_threads(1)
    pieces = load_pieces(args.data, jazz=not args.no_jazz)
    config = train_performance(
        pieces, bach_lines(args.chorales), args.run_dir, args.output, args.steps, args.time_budget
    )
    print(json.dumps({k: v for k, v in config.items() if k != "train_pieces"}))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from readdsp.core.performance_model import PerformanceModel
    from readdsp.training.performance_eval import evaluate_model, write_performance_card

    model = PerformanceModel.load(args.bundle)
    metrics = evaluate_model(model, load_pieces(args.data))
    from readdsp.core.bundle import write_sidecar

    write_sidecar(args.bundle, {"metrics": metrics})
    if args.card:
        write_performance_card(args.card, model.config, metrics)
    print(json.dumps(metrics, indent=1))
    return 0

"""Paired (clean, processed) effect datasets: signals, specs, backends, builder, NAM export."""

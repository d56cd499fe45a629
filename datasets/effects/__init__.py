"""Paired (clean, processed) effect datasets: test signals, chain specs, backends, builder, manifest, NAM export."""

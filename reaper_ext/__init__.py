"""Everything that touches REAPER: bridge, engine, actions, install, batch converter, offline RPP."""

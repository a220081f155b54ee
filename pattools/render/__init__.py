"""pat-render: pictures of lattice fields, token patch maps and edit effects (matplotlib, lazily)."""

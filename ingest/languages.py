"""Which language a source or text file is in, by its name: the tables the code and text formats
of ``ingest/formats.py`` read. Which kind a file is (PDF, Word, code, ...) is that registry's
answer (``ingest.formats.classify``), not this module's.
"""

from __future__ import annotations

# Languages whose definitions longqa chunks with tree-sitter (see ingest/code.py).
GRAMMAR_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
}

# Other source languages: recognised and cut into line windows.
OTHER_CODE = {
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".lua": "lua",
    ".r": "r",
    ".jl": "julia",
    ".m": "objc",
    ".mm": "objcpp",
    ".pl": "perl",
    ".pm": "perl",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".ex": "elixir",
    ".exs": "elixir",
    ".erl": "erlang",
    ".clj": "clojure",
    ".dart": "dart",
    ".zig": "zig",
    ".nim": "nim",
    ".f90": "fortran",
    ".f": "fortran",
    ".pyx": "cython",
    ".pxd": "cython",
    ".sh": "bash",
    ".bash": "bash",
    ".zsh": "bash",
    ".ps1": "powershell",
    ".bat": "batch",
    ".sql": "sql",
    ".css": "css",
    ".scss": "scss",
    ".vue": "vue",
    ".svelte": "svelte",
    ".xml": "xml",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".cmake": "cmake",
    ".proto": "protobuf",
    ".graphql": "graphql",
    ".tf": "hcl",
    ".gradle": "groovy",
    ".groovy": "groovy",
    ".el": "elisp",
    ".vim": "vim",
}

CODE_FILENAMES = {
    "makefile": "make",
    "gnumakefile": "make",
    "dockerfile": "dockerfile",
    "cmakelists.txt": "cmake",
    "meson.build": "meson",
    "build": "bazel",
}

# Flavours of text: how their headings are found (ingest/text.py).
TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "plain"}

# The folder walk (ingest/walk.py) and uploads (app/services/uploads.py) still read these two from
# here, not from the registry: tests/ingest/test_registry.py pins them equal to ingest.formats.

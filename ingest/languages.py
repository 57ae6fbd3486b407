"""Which files are code, text, PDF, Word, web pages or e-books, and in which language.

The table of extensions lives here so the folder walk, the loaders and the UI agree.
"""

from __future__ import annotations

from pathlib import Path

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

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "plain"}

# Documents whose text is extracted by a loader of their own (ingest/word.py, webpage.py, epub.py).
DOCUMENT_SUFFIXES = {".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html", ".epub": "epub"}

# Documents stored as binary packages: their loaders read them; their bytes are never sniffed as text.
BINARY_DOCUMENTS = {".pdf", ".docx", ".epub"}


def classify(path: Path) -> tuple[str, str | None]:
    """(kind, language) for a path by its name: 'pdf', 'code', 'text', 'docx', 'html' or 'epub'.

    Unknown names count as text; the folder walk's content sniffing weeds out binaries.
    """
    suffix = path.suffix.lower()
    name = path.name.lower()
    if suffix == ".pdf":
        return "pdf", None
    if suffix in DOCUMENT_SUFFIXES:
        return DOCUMENT_SUFFIXES[suffix], None
    if suffix in GRAMMAR_LANGUAGES:
        return "code", GRAMMAR_LANGUAGES[suffix]
    if suffix in OTHER_CODE:
        return "code", OTHER_CODE[suffix]
    if name in CODE_FILENAMES:
        return "code", CODE_FILENAMES[name]
    if suffix in TEXT_SUFFIXES:
        return "text", TEXT_SUFFIXES[suffix]
    return "text", "plain"

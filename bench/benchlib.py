"""Helpers shared by bench/querybench.py and bench/indexbench.py: paths,
engine commands, the machine description and the default corpora."""
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def default_shared():
    return os.environ.get("TRAWL_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")


def add_binary_options(ap):
    ap.add_argument("--trawl-index", default=os.path.join(ROOT, "build/indexer/trawl-index"))
    ap.add_argument("--trawl-query", default=os.path.join(ROOT, "build/query/trawl-query"))
    ap.add_argument("--fts5-index", default=os.path.join(ROOT, "build/bench/fts5_index"))
    ap.add_argument("--fts5-query", default=os.path.join(ROOT, "build/bench/fts5_query"))
    ap.add_argument("--engine", action="append", default=[], metavar="NAME|BUILD|QUERY",
                    help="another engine: NAME|build command|query command, with {corpus} "
                         "and {index} placeholders (split on spaces); repeatable")


def engine_table(args):
    """{name: (build argv template, query argv template, index is a file)}."""
    table = {
        "trawl": ([args.trawl_index, "--quiet", "{index}", "{corpus}"],
                  [args.trawl_query, "--protocol", "{index}"], False),
        "fts5": ([args.fts5_index, "{index}", "{corpus}"],
                 [args.fts5_query, "{index}"], True),
    }
    for spec in args.engine:
        parts = spec.split("|")
        if len(parts) != 3 or not parts[0]:
            sys.exit(f"--engine wants NAME|BUILD|QUERY, got {spec!r}")
        table[parts[0]] = (parts[1].split(), parts[2].split(), False)
    return table


def fill(template, **values):
    return [t.format(**values) for t in template]


def machine():
    model, ram = "?", "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        with open("/proc/meminfo") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("MemTotal"))
            ram = f"{kib / 1048576:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "ram": ram,
            "os": f"{platform.system()} {platform.release()}"}


def machine_line():
    m = machine()
    return f"{m['nproc']} CPUs ({m['cpu']}), {m['ram']}, {m['os']}"


def dir_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                pass
    return total


def remove_index(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def make_passages(shared, work):
    """The enwiki-2015 passages corpus, made once and cached in work."""
    out = os.path.join(work, "enwiki-2015-passages.jsonl")
    if not os.path.exists(out):
        src = os.path.join(shared, "wiki", "enwiki-2015.jsonl.zst")
        tool = os.path.join(shared, "tools", "passages.py")
        print(f"making {out} from {src} ...", file=sys.stderr)
        with open(out + ".tmp", "wb") as f:
            subprocess.run([sys.executable, tool, src], stdout=f, check=True)
        os.rename(out + ".tmp", out)
    return out


def make_articles(shared, work):
    """The enwiki-2015 articles, decompressed once and cached in work."""
    out = os.path.join(work, "enwiki-2015.jsonl")
    if not os.path.exists(out):
        src = os.path.join(shared, "wiki", "enwiki-2015.jsonl.zst")
        print(f"decompressing {src} ...", file=sys.stderr)
        subprocess.run(["zstd", "-q", "-d", "-f", src, "-o", out + ".tmp"], check=True)
        os.rename(out + ".tmp", out)
    return out


def head_corpus(path, n, work):
    """The first n documents of path, cached in work (for quick runs)."""
    out = os.path.join(work, f"{os.path.basename(path)}.head{n}.jsonl")
    if not os.path.exists(out):
        with open(path, "rb") as src, open(out + ".tmp", "wb") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
        os.rename(out + ".tmp", out)
    return out


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    k = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(k) - 1]

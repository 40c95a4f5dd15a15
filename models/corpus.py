#!/usr/bin/python3
"""The training corpus of detbench-tiny: the reStructuredText sources of the Python 3.11
documentation from Debian's python3.11-doc (PSF licence), lightly cleaned. Shared by
models/train.py (the transformer) and scripts/build-markov.ts (the n-gram control), so both
learn from the very same text. Needs only the standard library.

    python3 models/corpus.py OUT_DIR     # writes OUT_DIR/docs.jsonl, corpus.txt, files.txt
"""
import json
import os
import re
import sys

DOC_SRC = "/usr/share/doc/python3.11/html/_sources"


ROLE = re.compile(r":[a-zA-Z:]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")
def clean_rst(text):
    """Light clean-up of reST: keep prose and code, drop label/index/comment lines and
    role markup (``:func:`len``` -> ``len``)."""
    out = []
    skip_block = False
    for line in text.split("\n"):
        s = line.strip()
        if skip_block:
            if s == "" or line.startswith((" ", "\t")):
                continue
            skip_block = False
        if re.match(r"\.\. (index|_[^:]*|highlight|sectionauthor|moduleauthor|versionchanged|"
                    r"versionadded|deprecated|toctree|include|testsetup|testcleanup|"
                    r"impl-detail|only|raw|\|)", s) or (s.startswith("..") and s[2:3] in ("", " ") and "::" not in s):
            skip_block = True
            continue
        line = ROLE.sub(lambda m: m.group(1), line)
        out.append(line.rstrip())
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def extract_corpus(cache):
    docs_path = os.path.join(cache, "docs.jsonl")
    if os.path.exists(docs_path):
        return
    if not os.path.isdir(DOC_SRC):
        sys.exit(f"{DOC_SRC} missing: apt-get install -y python3-doc")
    files = []
    for root, _, names in os.walk(DOC_SRC):
        for n in names:
            if n.endswith(".rst.txt"):
                rel = os.path.relpath(os.path.join(root, n), DOC_SRC)
                # the licence texts of third-party code and the bug-number changelog are
                # not documentation prose; includes/ are fragments
                if rel in ("license.rst.txt", "whatsnew/changelog.rst.txt") or rel.startswith("includes/"):
                    continue
                files.append(rel)
    files.sort()
    with open(docs_path + ".tmp", "w") as f, open(os.path.join(cache, "corpus.txt"), "w") as c, \
            open(os.path.join(cache, "files.txt"), "w") as fl:
        for rel in files:
            with open(os.path.join(DOC_SRC, rel), encoding="utf-8") as h:
                t = clean_rst(h.read())
            if len(t) < 200:
                continue
            f.write(json.dumps({"path": rel, "text": t}, ensure_ascii=False) + "\n")
            c.write(t + "\n")
            fl.write(rel + "\n")
    os.replace(docs_path + ".tmp", docs_path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: corpus.py OUT_DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    extract_corpus(sys.argv[1])

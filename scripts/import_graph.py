#!/usr/bin/env python3
"""Counts import circles between the top-level folders of src/ and prints them.

Every `crate::<module>` path in a file (use lines and inline paths) is an edge from the file's top-level
folder to <module>. Root files (lib.rs, cli.rs, ...) are their own nodes. Prints the strongly connected
components with more than one member and, for each edge inside one, the files that make it.
Exit status 1 when a circle exists."""
import os, re, sys, collections

root = sys.argv[1] if len(sys.argv) > 1 else "src"
path_re = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
group_re = re.compile(r"\bcrate::\{([^}]*)\}", re.S)
edges = collections.defaultdict(lambda: collections.defaultdict(set))
mods = set()
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"):
            continue
        p = os.path.join(dp, f)
        rel = os.path.relpath(p, root)
        top = rel.split(os.sep)[0]
        if top.endswith(".rs"):
            top = top[:-3]
        mods.add(top)
        text = open(p, encoding="utf-8").read()
        # drop #[cfg(test)] modules at the end of files: tests may reach anywhere
        cut = text.find("#[cfg(test)]")
        if cut >= 0:
            text = text[:cut]
        # comments (doc links included) are not imports
        text = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith("//"))
        targets = set(path_re.findall(text))
        for g in group_re.findall(text):
            for part in g.split(","):
                part = part.strip()
                m = re.match(r"([a-z_][a-z0-9_]*)", part)
                if m:
                    targets.add(m.group(1))
        for t in targets:
            if t != top and t not in ("self",):
                edges[top][t].add(rel)
nodes = sorted(mods | {t for a in edges for t in edges[a]})
# Tarjan
index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in nodes:
    if v not in index:
        strong(v)
bad = [sorted(c) for c in sccs if len(c) > 1]
verbose = "-v" in sys.argv
for c in bad:
    print("circle:", " ".join(c))
    if verbose:
        for a in c:
            for b in c:
                if b in edges.get(a, {}):
                    print(f"  {a} -> {b}: {', '.join(sorted(edges[a][b]))}")
print(f"{len(bad)} circles among {len(nodes)} folders")
sys.exit(1 if bad else 0)

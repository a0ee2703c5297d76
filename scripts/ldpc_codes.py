# Writes the three shipped alist codes. Provenance: see docs/ldpc.md.
import sys
def write_alist(path, n, m, rows):
    # rows: list of m lists of 1-based column indices
    cols = [[] for _ in range(n)]
    for r, row in enumerate(rows):
        for c in row:
            cols[c-1].append(r+1)
    for c in cols: c.sort()
    rows = [sorted(r) for r in rows]
    cw = [len(c) for c in cols]; rw = [len(r) for r in rows]
    with open(path, "w") as f:
        f.write(f"{n} {m}\n{max(cw)} {max(rw)}\n")
        f.write(" ".join(map(str, cw)) + "\n")
        f.write(" ".join(map(str, rw)) + "\n")
        for c in cols: f.write(" ".join(map(str, c + [0]*(max(cw)-len(c)))) + "\n")
        for r in rows: f.write(" ".join(map(str, r + [0]*(max(rw)-len(r)))) + "\n")

def circulant_rows(first_rows, z):
    rows = []
    for first in first_rows:
        for r in range(z):
            rows.append([((e-1)//z)*z + ((e-1) % z + r) % z + 1 for e in first])
    return rows

ccsds = [[1,8,19,47,55,81,110,113],[7,17,32,33,50,65,97,120],[5,18,33,48,63,76,81,116],[1,18,42,49,62,79,82,97]]
write_alist("CCSDS_128_64.alist", 128, 64, circulant_rows(ccsds, 16))
wimax = [[26,55,204,221,312,313],[43,140,150,191,286,313,337],[91,116,125,185,265,337,361],[10,62,201,235,361,385],
 [64,148,231,247,385,409],[110,135,173,270,289,409,433],[50,84,238,261,433,457],[47,55,145,230,457,481],
 [22,101,139,183,277,481,505],[122,179,248,271,505,529],[72,81,208,229,529,553],[15,129,183,283,312,553]]
write_alist("WIMAX_576_288.alist", 576, 288, circulant_rows(wimax, 24))
mackay_cols = """10 30 40;5 32 45;16 18 39;12 22 38;15 19 47;2 17 34;9 24 42;1 29 33;4 27 36;3 26 35;11 31 43;7 21 44;8 20 48;14 23 46;6 28 37;13 25 41;
14 32 43;5 23 37;2 31 36;1 28 34;7 25 47;10 21 33;15 30 35;16 26 48;3 22 46;12 20 41;8 18 38;4 19 45;6 24 40;9 27 39;13 17 42;11 29 44;
8 24 34;6 25 36;9 19 43;1 20 46;14 27 42;7 22 39;13 18 35;4 26 40;16 29 38;15 21 48;11 23 45;3 17 47;5 28 44;12 32 33;2 30 41;10 31 37;
10 18 36;4 23 44;9 29 40;2 27 38;8 30 42;12 28 43;11 20 37;1 19 35;15 31 39;16 32 41;5 26 33;3 25 45;13 21 34;14 24 48;7 17 46;6 22 47;
7 27 40;11 18 33;2 32 35;10 28 47;5 24 41;12 25 37;3 19 39;14 31 44;16 30 34;13 20 38;9 22 36;6 17 45;4 21 42;15 29 46;8 26 43;1 23 48;
1 25 42;15 22 40;8 21 41;9 18 47;6 27 43;11 30 46;7 31 35;5 20 36;14 17 38;16 28 45;4 32 37;13 23 33;12 26 44;3 29 48;2 24 39;10 19 34"""
cols = [list(map(int, c.split())) for c in mackay_cols.replace("\n","").split(";")]
assert len(cols) == 96
rows = [[] for _ in range(48)]
for j, c in enumerate(cols):
    for r in c: rows[r-1].append(j+1)
# MacKay's own layout: no zero padding (the code is regular).
with open("96.3.963", "w") as f:
    f.write("96 48\n3 6\n" + " ".join(["3"]*96) + " \n" + " ".join(["6"]*48) + " \n")
    for c in cols: f.write(" ".join(map(str, sorted(c))) + " \n")
    for r in rows: f.write(" ".join(map(str, sorted(r))) + " \n")

def peg(n, m, dv, dc):
    """Progressive edge growth (Hu, Eleftheriou & Arnold, IEEE Trans. IT 51(1), 2005), made
    deterministic: among the candidate checks of lowest degree, the lowest index. Each variable's
    k-th edge goes to a check as far from it in the graph built so far as possible, never to a
    check that already has dc edges (so the code comes out regular)."""
    var_checks = [[] for _ in range(n)]
    check_vars = [[] for _ in range(m)]
    for j in range(n):
        for k in range(dv):
            if k == 0:
                candidates = set(range(m))
            else:
                # Breadth-first from j: the checks reached at each depth.
                reached = set(var_checks[j]); frontier_checks = set(var_checks[j])
                seen_vars = {j}
                while True:
                    next_vars = {v for c in frontier_checks for v in check_vars[c]} - seen_vars
                    seen_vars |= next_vars
                    new_checks = {c for v in next_vars for c in var_checks[v]} - reached
                    if not new_checks or len(reached | new_checks) == m:
                        break
                    reached |= new_checks; frontier_checks = new_checks
                candidates = set(range(m)) - reached
                if not candidates:
                    candidates = set(range(m)) - set(var_checks[j])
            open_checks = {c for c in range(m) if len(check_vars[c]) < dc and c not in var_checks[j]}
            candidates = (candidates & open_checks) or open_checks
            lowest = min(len(check_vars[c]) for c in candidates)
            c = min(c for c in candidates if len(check_vars[c]) == lowest)
            var_checks[j].append(c); check_vars[c].append(j)
    return [[v + 1 for v in sorted(vs)] for vs in check_vars]

# A small (3,6)-regular code whose checks and messages can be followed one by one on screen.
rows = peg(48, 24, 3, 6)
assert all(len(r) == 6 for r in rows), [len(r) for r in rows]
write_alist("peg-48-24.alist", 48, 24, rows)

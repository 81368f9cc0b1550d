# Medians of `ser bench --json` runs, per shape and metric, for two builds and their ratio.
# Input: one line per run, "<build> <JSON object>"; set a and b to the two build labels (-v a=jit -v b=aot), and
# optionally A and B to their column titles. Prints one line per shape and metric: both medians and b/a (> 1 is
# faster for samples/s and GFLOP/s, < 1 for latency). Plain awk, so no Python is needed.
{ build = $1; sub(/^[^ ]+ /, ""); gsub(/[{}"]/, ""); n = split($0, kv, ",");
  for (i = 1; i <= n; i++) { split(kv[i], p, ":"); v[p[1]] = p[2] }
  for (m in v) if (m != "shape" && m != "threads") { key = v["shape"] SUBSEP m SUBSEP build; vals[key] = vals[key] " " v[m] } }
function median(s,   x, k, i, j, t) { k = split(s, x, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
  return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
END {
  if (A == "") A = a; if (B == "") B = b
  printf "%-9s %-20s %12s %12s %8s\n", "shape", "metric", A, B, B "/" A
  split("SEED FRAMES FRAMES-L", shapes, " "); split("train_samples_per_s infer_samples_per_s latency_us gflops", metrics, " ")
  for (s = 1; s <= 3; s++) for (m = 1; m <= 4; m++) {
    x = vals[shapes[s] SUBSEP metrics[m] SUBSEP a]; y = vals[shapes[s] SUBSEP metrics[m] SUBSEP b]
    if (x == "" || y == "") continue
    mx = median(x); my = median(y)
    printf "%-9s %-20s %12.1f %12.1f %8.3f\n", shapes[s], metrics[m], mx, my, my / mx }
}

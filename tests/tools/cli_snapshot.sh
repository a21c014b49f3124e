#!/usr/bin/env bash
# The CLI's outputs on a fixed demo lake, for comparing two versions of LakeLens (a refactor changes none of them).
#   bash tests/tools/cli_snapshot.sh OUT_DIR [PYTHON]
# Builds a 3,000-review demo lake (the generator is seeded) in OUT_DIR/lake, then writes one file per command:
# sentiment summary (plain and --course), profile, query to stdout and exported in every format, report export,
# automl list. Times, durations, query ids and the lake's own path are masked so two runs compare with `diff -r`.
set -uo pipefail
out=${1:?usage: cli_snapshot.sh OUT_DIR [PYTHON]}
py=${2:-.venv/bin/python}
rm -rf "$out"; mkdir -p "$out"
lake="$out/lake"
run() { # name, args...
  local name=$1; shift
  "$py" -m lib "$@" >"$out/$name.out" 2>"$out/$name.err"; echo "exit $?" >>"$out/$name.err"
}
export LAKELENS_USER=snapshot
run demo demo --rows 3000 --root "$lake"
run summary sentiment summary --table demo.reviews --root "$lake"
run summary_course sentiment summary --table demo.reviews --course --root "$lake"
run summary_binary sentiment summary --table demo.reviews --definition binary --exclude-small --root "$lake"
run profile profile --table demo.reviews --root "$lake"
run profile_raw profile --table demo.reviews_raw --root "$lake"
sql="SELECT product_category, star_rating, count(*) AS n, avg(length(review_body)) AS avg_len, approx_percentile(helpful_votes, 0.5) AS p50 FROM demo.reviews GROUP BY 1, 2 ORDER BY 1, 2"
run query_print query --sql "$sql" --root "$lake"
run query_params query --sql "SELECT count(*) AS n FROM demo.reviews WHERE star_rating >= :min AND product_category = :cat" --param min=4 --param cat=Apparel --root "$lake"
run query_script query --sql "SELECT 1 AS a; SELECT 7 / 2 AS half, 7.0 / 2 AS d" --root "$lake"
for fmt in csv json parquet; do
  run "export_$fmt" query --sql "$sql" --format "$fmt" --out "$out/export.$fmt" --root "$lake"
done
"$py" -c "import pyarrow.parquet as pq,sys; t=pq.read_table(sys.argv[1]); print(t.schema); print(t.to_pandas().to_csv(index=False))" "$out/export.parquet" >"$out/export.parquet.txt" 2>&1
rm -f "$out/export.parquet"
cat >"$out/report.md" <<'MD'
---
title: Snapshot report
---
# Reviews by category

```sql chart="bar" x="product_category" y="n"
SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1 ORDER BY 2 DESC
```

Stars:

```sql
SELECT star_rating, count(*) AS n FROM demo.reviews GROUP BY 1 ORDER BY 1
```
MD
run report_import report import "$out/report.md" --slug snapshot --root "$lake"
run report_refresh report refresh snapshot --root "$lake"
run report_list report list --root "$lake"
run report_export report export snapshot --out "$out/report.html" --root "$lake"
run automl_list automl list --root "$lake"
rm -rf "$lake"
# mask what differs between two runs of the same code
for f in "$out"/*; do
  sed -E -i \
    -e "s#$out#OUT#g" \
    -e 's/[0-9]+\.[0-9]+ s\b/T s/g' \
    -e 's/query [0-9a-f-]{8,}/query ID/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(\+00:00|Z)?/TIME/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}( UTC)?/TIME/g' \
    -e 's/"(seconds|runtime_s|elapsed_s|duration_s)": [0-9.]+/"\1": T/g' \
    "$f"
done
echo "wrote $(ls "$out" | wc -l) files to $out"

# Sourced by Benchmarks/run once every measurement is done: turns the figures
# it collected ($runs, reload_ms, startup, memory_rows, ...) into the table.
# Kept apart so the run script reads as the sequence of measurements.

row() { local out="|" cell; for cell in "$@"; do out+=" $cell |"; done; echo "$out"; }
median() { summary | cut -d' ' -f1; }
mib() { calc "printf \"%.1f\", $1 / 1024"; }
pair() { echo "$(mib "$1") / $(mib "$2")"; } # "RSS / PSS" in MiB
per_base() { calc "printf \"%.1f (PSS)\", $base_pss ? $1 / $base_pss : 0"; }
declare -A target=([L1,cecho]=0.85 [L1,greeter]=0.8 [L16,cecho]=0.7 [L16,greeter]=0.6
                   [P16,cecho]=0.25 [P16,greeter]=0.12 [O16,cecho]=0.85 [O16,greeter]=0.8)
failed=$(echo "$reload_load" | tr ' ' '\n' | awk -F= '$1 == "errors" { print $2 }')
served=$(echo "$reload_load" | tr ' ' '\n' | awk -F= '$1 == "requests" { print $2 }')

echo "# Berth benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: nproc $(nproc), Linux $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average at the start $load_start, at the end $(cut -d" " -f1-3 /proc/loadavg); CPU time stolen by the hypervisor during the run: $(read -r steal ticks < <(cpu_ticks); awk -v s=$((steal - steal_start)) -v t=$((ticks - ticks_start)) 'BEGIN { printf "%.1f%%", t ? 100 * s / t : 0 }')"
echo "- build: $config, $(swift --version 2>/dev/null | sed -n '1s/ (.*//p'); tools: cc -O2"
echo "- pinning: $pinning"
echo "- mode: $([ $quick = 1 ] && echo quick || echo full): each workload $seconds s after a $warmup s warm-up, $reps repetition(s); figures are medians, ± is half the min-max range relative to the median"
echo "- requests: cecho \`POST /echo\` with a ${#echo_body}-byte body (${#echo_line}-byte line), greeter \`GET /hello/bob\` (${#greet_line}-byte line); the baseline (C, epoll, one process) gets the same lines and answers \`{\"id\":null,\"status\":200,\"data\":{\"ok\":true}}\`"
echo "- workloads: L1 one connection, one request in flight; L16 16 connections, one each; P16 16 connections, 32 pipelined each; O16 16 clients doing connect, one request, close"
echo
row measure Berth baseline Berth/baseline target result "errors Berth / baseline" "CPU server / loadgen: Berth; baseline"
echo "|---|--:|--:|--:|---|---|--:|---|"
for w in "${workloads[@]}"; do
  for p in cecho greeter; do
    read -r bm bmin bmax < <(values "$w" "$p" rps | summary)
    read -r am amin amax < <(values "$w" "base-$p" rps | summary)
    # Three decimals, and the verdict on the unrounded ratio: at two, 0.115
    # showed as 0.12 and passed a target of 0.12.
    ratio=$(calc "printf \"%.3f\", $am ? $bm / $am : 0")
    cpu="$(values "$w" "$p" server_cpu | median) / $(values "$w" "$p" cpu | median);"
    cpu+=" $(values "$w" "base-$p" server_cpu | median) / $(values "$w" "base-$p" cpu | median)"
    row "$w $p req/s" "$(spread "$bm" "$bmin" "$bmax")" "$(spread "$am" "$amin" "$amax")" "$ratio" \
      "≥ ${target[$w,$p]}" "$(verdict "$am && $bm / $am >= ${target[$w,$p]}")" \
      "$(values "$w" "$p" errors | total) / $(values "$w" "base-$p" errors | total)" "$cpu"
    if [ "$w" = L1 ]; then
      b50=$(values L1 "$p" p50_us | median) b99=$(values L1 "$p" p99_us | median)
      a50=$(values L1 "base-$p" p50_us | median) a99=$(values L1 "base-$p" p99_us | median)
      row "L1 $p latency p50 / p99 µs" "$b50 / $b99" "$a50 / $a99" \
        "$(calc "printf \"%.2f / %.2f\", $a50 ? $b50 / $a50 : 0, $a99 ? $b99 / $a99 : 0")" "" "" "" ""
    fi
  done
done
read -r rm _ rmax < <(printf '%s\n' "${reload_ms[@]}" | summary)
row "reload: SIGHUP with a changed .so until the new version answers, p50 ms ($reloads reloads)" "$rm" "" "" \
  "≤ 50" "$(verdict "$rm <= 50")" "" ""
row "reload: the same, max ms" "$rmax" "" "" "≤ 200" "$(verdict "$rmax <= 200")" "" ""
row "reload: failed requests of an O16 load meanwhile" "$failed of $served" "" "" "0" "$(verdict "$failed == 0")" "$failed / -" ""
for s in "${startup[@]}"; do
  read -r n sm smin smax incomplete <<<"$s"
  figure=$(spread "$sm" "$smin" "$smax" 1) result=$(verdict "$sm <= 500")
  # A repetition in which some socket never answered has no start-up time.
  if [ "$sm" = nan ]; then
    figure="never all answering:$incomplete" result=MISS
  elif [ -n "$incomplete" ]; then
    figure+="; other runs:$incomplete" result=MISS
  fi
  if [ "$n" = 1 ]; then
    row "start-up: \`berth serve\` until every socket answers, 1 plugin, ms" "$figure" "" "" "" "" "" ""
  else
    row "start-up, $n plugins, ms" "$figure" "" "" "≤ 500" "$result" "" ""
  fi
done
for m in "${memory_rows[@]}"; do
  read -r n hr hp wr wp mr mp count <<<"$m"
  row "memory, $n plugin(s), idle: host RSS / PSS MiB" "$(pair "$hr" "$hp")" "$(pair "$base_rss" "$base_pss")" "$(per_base "$hp")" "" "" "" ""
  worker_target="" worker_result=""
  if [ "$n" = "$memory_many" ] && [ "$n" != 1 ]; then
    worker_target="max PSS ≤ 5" worker_result=$(verdict "$mp <= 5 * 1024")
  fi
  loaded=""
  [ "$count" = "$n" ] || loaded=" (only $count of the $n plugins loaded)"
  row "memory, $n plugin(s), idle: worker RSS / PSS MiB, mean (max) of $count$loaded" "$(pair "$wr" "$wp") ($(pair "$mr" "$mp"))" \
    "$(pair "$base_rss" "$base_pss")" "$(per_base "$wp")" "$worker_target" "$worker_result" "" ""
done
read -r gr gp < <(tail -n 1 "$tmp/greet.txt")
row "memory: greeter (Swift) worker, idle, RSS / PSS MiB" "$(pair "$gr" "$gp")" "$(pair "$base_rss" "$base_pss")" "$(per_base "$gp")" "" "" "" ""
read -r cr cp hr2 hp2 <<<"$main_memory"
row "memory: cecho; greeter workers after the loads, RSS / PSS MiB" "$(pair "$cr" "$cp"); $(pair "$hr2" "$hp2")" "" "" "" "" "" ""
echo
echo "Throughput ratios are Berth req/s over baseline req/s with the same request line; latency ratios are Berth over baseline (lower is better)."
echo "CPU is cores used during the measurement: the server (Berth: host and the plugin's worker; the baseline process) and the load generator."
echo "Both near 1.00 means the two shared the machine evenly; a loadgen at 1.00 beside a server well below it would mean the client limited the run."
echo "The baseline's memory is one idle baseline process (PSS counts shared pages divided among the processes that map them)."
echo "Start-up is timed from just before \`berth serve\` is started until a request to the last socket is answered; reload from the SIGHUP until a request gets the new version."
# What Berth itself reported going wrong (load failures, crashes), without
# timestamps and with the scratch folder left out of paths.
problems=$(cat "$tmp"/*.log | grep -E '^[0-9T:.-]+Z (ERROR|WARN) ' | cut -d' ' -f2- | sed "s|$tmp/||g" | sort | uniq -c | sort -rn || true)
if [ -n "$problems" ]; then
  echo
  echo "Berth logged these errors and warnings during the run (count, message):"
  echo
  echo '```'
  head -n 12 <<<"$problems"
  echo '```'
fi
echo
echo "<details><summary>every run</summary>"
echo
echo '```'
cat "$runs"
echo "reload-load $reload_load"
echo "reload-ms ${reload_ms[*]}"
echo '```'
echo
echo "</details>"

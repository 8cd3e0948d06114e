# Shared functions of the node scripts, inlined by synth where a script includes common.sh.
#
# Every script runs on the host (entered with nsenter from a privileged pod), prints one line per
# action (REMOVED, ABSENT, KEPT, WOULD-REMOVE, CANNOT-INSPECT, WARN, FAILED) and exits 1 when an
# action failed. DRY_RUN=true only prints. HOST_ROOT prefixes every host path (tests set it).

HOST_ROOT="${HOST_ROOT:-}"
DRY_RUN="${DRY_RUN:-false}"
FAILURES=0

say() { printf '%s\n' "$*"; }
fail() {
  say "FAILED $*"
  FAILURES=$((FAILURES + 1))
}
dry_run() { [ "$DRY_RUN" = "true" ]; }

# remove_path PATH [what]: removes a file or directory tree, reporting REMOVED or ABSENT.
remove_path() {
  local path="$1" full="${HOST_ROOT}$1"
  if [ ! -e "$full" ] && [ ! -L "$full" ]; then
    say "ABSENT $path"
  elif dry_run; then
    say "WOULD-REMOVE $path"
  elif rm -rf -- "$full"; then
    say "REMOVED $path"
  else
    fail "$path: could not remove"
  fi
}

# is_mounted PATH: true when PATH is a mount point on the host.
is_mounted() {
  awk -v p="$1" '$2 == p { found = 1 } END { exit found ? 0 : 1 }' "${HOST_ROOT}/proc/self/mounts" 2>/dev/null
}

# chain_removal_batch REGEX: reads `iptables-save` output, writes an `iptables-restore --noflush`
# batch that removes the chains whose whole name matches REGEX: first the jumps into them from the
# built-in chains, then a flush and a delete of each chain. A matching chain that a chain outside
# the selection still jumps to is kept (with everything it jumps to), so no rule of another owner
# (such as the kubelet's KUBE-FIREWALL) is ever changed, and reported as `#KEPT <chain> <referrer>`.
chain_removal_batch() {
  awk -v pattern="^($1)\$" '
    function builtin(c) { return c == "INPUT" || c == "OUTPUT" || c == "FORWARD" || c == "PREROUTING" || c == "POSTROUTING" }
    /^\*/ { table = substr($0, 2); order[++ntables] = table; next }
    /^:/ {
      name = substr($1, 2)
      if (name ~ pattern && !builtin(name)) { selected[table, name] = 1; chains[table] = chains[table] " " name }
      next
    }
    /^-A / {
      from = $2; target = ""
      for (i = 3; i < NF; i++) if ($i == "-j" || $i == "-g") target = $(i + 1)
      if (target == "") next
      n = ++nedges; edgeTable[n] = table; edgeFrom[n] = from; edgeTo[n] = target; edgeRule[n] = substr($0, 4)
    }
    END {
      # Keep what a chain outside the selection (and not built in) jumps to, transitively.
      do {
        changed = 0
        for (n = 1; n <= nedges; n++) {
          t = edgeTable[n]; f = edgeFrom[n]; g = edgeTo[n]
          if (!((t, g) in selected) || ((t, g) in kept)) continue
          if ((((t, f) in selected) && !((t, f) in kept)) || builtin(f)) continue
          kept[t, g] = 1; keptBy[t, g] = f; changed = 1
        }
      } while (changed)
      for (k = 1; k <= ntables; k++) {
        t = order[k]
        nc = split(chains[t], list, " ")
        removing = 0
        for (c = 1; c <= nc; c++) if (!((t, list[c]) in kept)) removing++
        for (c = 1; c <= nc; c++) if ((t, list[c]) in kept) print "#KEPT " t " " list[c] " " keptBy[t, list[c]]
        if (removing == 0) continue
        print "*" t
        for (n = 1; n <= nedges; n++)
          if (edgeTable[n] == t && builtin(edgeFrom[n]) && ((t, edgeTo[n]) in selected) && !((t, edgeTo[n]) in kept)) print "-D " edgeRule[n]
        for (c = 1; c <= nc; c++) if (!((t, list[c]) in kept)) print "-F " list[c]
        for (c = 1; c <= nc; c++) if (!((t, list[c]) in kept)) print "-X " list[c]
        print "COMMIT"
      }
    }'
}

# iptables_tool FAMILY BACKEND SUFFIX: the command for e.g. `iptables nft save`, or nothing.
# Prefers `iptables-nft-save`; falls back to `iptables-save` when that one is the same backend.
iptables_tool() {
  local family="$1" backend="$2" suffix="$3" plain version
  if command -v "${family}-${backend}-${suffix}" >/dev/null 2>&1; then
    printf '%s' "${family}-${backend}-${suffix}"
    return 0
  fi
  plain="${family}-${suffix}"
  command -v "$plain" >/dev/null 2>&1 || return 1
  version="$("$family" --version 2>/dev/null || true)"
  case "$backend:$version" in
    nft:*nf_tables*) printf '%s' "$plain" ;;
    legacy:*legacy*) printf '%s' "$plain" ;;
    *) return 1 ;;
  esac
}

# remove_chains LABEL REGEX: removes the matching chains in iptables and ip6tables, legacy and nft.
remove_chains() {
  local label="$1" regex="$2" family backend save restore dump batch rules chains
  for family in iptables ip6tables; do
    for backend in legacy nft; do
      if ! save="$(iptables_tool "$family" "$backend" save)" || ! restore="$(iptables_tool "$family" "$backend" restore)"; then
        say "CANNOT-INSPECT ${family}-${backend}: its tools are not installed on this host ($label rules there, if any, stay until reboot)"
        continue
      fi
      if ! dump="$("$save" 2>&1)"; then
        say "CANNOT-INSPECT ${family}-${backend}: ${save} failed: $(printf '%s' "$dump" | head -n 1)"
        continue
      fi
      batch="$(printf '%s\n' "$dump" | chain_removal_batch "$regex")"
      printf '%s\n' "$batch" | awk '/^#KEPT / { print "KEPT " $3 " (" $2 " table): still referenced by " $4 }' | sed "s/^KEPT /KEPT ${family}-${backend} /"
      batch="$(printf '%s\n' "$batch" | grep -v '^#KEPT ' || true)"
      chains="$(printf '%s\n' "$batch" | grep -c '^-X ' || true)"
      rules="$(printf '%s\n' "$batch" | grep -c '^-D ' || true)"
      if [ "$chains" -eq 0 ]; then
        say "ABSENT ${family}-${backend}: no $label chains"
      elif dry_run; then
        say "WOULD-REMOVE ${family}-${backend}: $chains $label chains and $rules jumps into them:"
        printf '%s\n' "$batch" | sed 's/^/  /'
      elif printf '%s\n' "$batch" | "$restore" -w --noflush; then
        say "REMOVED ${family}-${backend}: $chains $label chains and $rules jumps into them"
      else
        fail "${family}-${backend}: ${restore} refused the removal of the $label chains"
      fi
    done
  done
}

# select_ipsets REGEX: reads `ipset list -n` output, prints the names matching REGEX.
select_ipsets() { grep -E "$1" || true; }

# remove_ipsets LABEL REGEX: destroys the matching ipsets (after the rules that used them are gone).
remove_ipsets() {
  local label="$1" regex="$2" names name
  if ! command -v ipset >/dev/null 2>&1; then
    say "CANNOT-INSPECT ipset: not installed on this host ($label ipsets, if any, stay until reboot)"
    return 0
  fi
  if ! names="$(ipset list -n 2>&1)"; then
    say "CANNOT-INSPECT ipset: ipset list failed: $(printf '%s' "$names" | head -n 1)"
    return 0
  fi
  names="$(printf '%s\n' "$names" | select_ipsets "$regex")"
  if [ -z "$names" ]; then
    say "ABSENT ipsets: no $label sets"
    return 0
  fi
  for name in $names; do
    if dry_run; then
      say "WOULD-REMOVE ipset $name"
    elif ipset destroy "$name" 2>/dev/null; then
      say "REMOVED ipset $name"
    else
      # A set nothing references is inert; a reboot removes it.
      say "WARN ipset $name: could not be destroyed; it is unused and goes away at the next reboot"
    fi
  done
}

finish() {
  if [ "$FAILURES" -gt 0 ]; then
    say "$1: $FAILURES action(s) failed"
    exit 1
  fi
  say "$1: done$(dry_run && printf ' (dry run: nothing was changed)')"
}

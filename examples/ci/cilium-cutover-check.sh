#!/usr/bin/env bash
# Pull-request check for a GitOps repository that holds a cilium-cutover config and its output.
# Run it from the repository root:
#
#   cilium-cutover-check.sh [BASE_REF]     BASE_REF: what the pull request merges into (origin/main)
#
# It fails when the committed output is stale or invalid, and writes the review comment (what the
# change does to each object, then the plan) to $COMMENT_FILE.
#
# Environment:
#   CILIUM_CUTOVER  how to run the tool (default: npx --no-install cilium-cutover)
#   CONFIG          the config file (default: cilium-cutover.yaml)
#   OUT             the output directory (default: dist)
#   COMMENT_FILE    where the comment body goes (default: cilium-cutover-comment.md)
set -euo pipefail

base=${1:-origin/main}
read -r -a cli <<<"${CILIUM_CUTOVER:-npx --no-install cilium-cutover}"
config=${CONFIG:-cilium-cutover.yaml}
out=${OUT:-dist}
comment=${COMMENT_FILE:-cilium-cutover-comment.md}

echo "== synth: is the committed $out/ what $config produces?"
"${cli[@]}" synth --config "$config" --out "$out"
stale=$(git status --porcelain -- "$out")
if [ -n "$stale" ]; then
  echo "$stale" >&2
  echo "$out/ is stale: run synth and commit the result" >&2
  exit 1
fi

echo "== check: schemas and kustomize builds"
"${cli[@]}" check --dir "$out"

echo "== comment: diff against $base, and the plan"
{
  echo "## cilium-cutover"
  echo
  if git cat-file -e "$base:./$out" 2>/dev/null; then
    echo "What this pull request changes in \`$out/\`, object by object, against \`$base\`:"
    echo
    echo '```text'
    "${cli[@]}" diff --config "$config" --against "$base" --out "$out"
    echo '```'
  else
    echo "\`$base\` has no \`$out/\` yet: everything below is new."
  fi
  echo
  echo '<details><summary>Migration plan</summary>'
  echo
  "${cli[@]}" plan --config "$config" --out "$out"
  echo
  echo '</details>'
} >"$comment"
echo "wrote $comment"

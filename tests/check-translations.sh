#!/usr/bin/env bash
# Every translation covers every string of the current sources: the catalog
# is extracted afresh and merged into each .po; none may be left untranslated
# or fuzzy.
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"

xgettext --from-code=UTF-8 --add-comments=Translators --files-from=po/POTFILES.in \
  --directory="$src" --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dngettext:2,3 --its=/usr/share/gettext/its/gtkbuilder.its \
  -o "$work/encryptedp2p.pot" 2>"$work/xgettext.log" || {
  # xgettext picks ITS rules per file type; retry without forcing one.
  xgettext --from-code=UTF-8 --add-comments=Translators --files-from=po/POTFILES.in \
    --directory="$src" --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
    --keyword=g_dngettext:2,3 -o "$work/encryptedp2p.pot"
}

status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching -o "$work/$lang.po" "po/$lang.po" "$work/encryptedp2p.pot"
  stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$work/$lang.po" 2>&1)
  echo "$lang: $stats"
  if printf '%s' "$stats" | grep -Eq 'untranslated|fuzzy'; then
    status=1
    msgattrib --untranslated --only-fuzzy "$work/$lang.po" 2>/dev/null | grep '^msgid' | head -20 || true
    msgattrib --untranslated "$work/$lang.po" | grep -A1 '^msgid' | head -40
  fi
done
exit $status

#!/usr/bin/env bash
# Every translation covers every string of the current sources: the catalog
# is extracted afresh and merged into each .po; none may be left untranslated
# or fuzzy.
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"

# The same extraction as meson's i18n.gettext (preset: 'glib'); xgettext
# picks its rules for .ui, .desktop, .gschema.xml and metainfo by file type.
xgettext --package-name=encryptedp2p --from-code=UTF-8 --add-comments \
  --files-from=po/POTFILES.in --directory="$src" \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
  --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format \
  -o "$work/encryptedp2p.pot"

status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching -o "$work/$lang.po" "po/$lang.po" "$work/encryptedp2p.pot"
  stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$work/$lang.po" 2>&1)
  echo "$lang: $stats"
  if printf '%s' "$stats" | grep -Eq 'untranslated|fuzzy'; then
    status=1
    msgattrib --untranslated "$work/$lang.po" | grep '^msgid' | head -40
    msgattrib --only-fuzzy "$work/$lang.po" | grep '^msgid' | head -40
  fi
done
exit $status

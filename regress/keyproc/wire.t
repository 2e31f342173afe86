exec "${LURKD_TOP:-$(dirname "$0")/../..}/regress/keyproc/wire_test"

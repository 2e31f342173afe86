# The key reference codec: round trips and every malformed form refused.
exec "${LURKD_TOP:-$(dirname "$0")/../..}/regress/provider/keyref_test"

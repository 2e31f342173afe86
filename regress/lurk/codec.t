exec "${LURKD_TOP:-$(dirname "$0")/../..}/regress/lurk/codec_test"

/* test_encoding.c — the encoding layer: WHATWG labels, the HTML sniffing
 * algorithm (BOM, transport charset, <meta> prescan, UTF-8 detection) and
 * the decoders' output, including their error handling. Expected values come
 * from the Encoding Standard's indexes and decoder algorithms. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "encoding.h"

#define FFFD "\xEF\xBF\xBD"

static buf out = BUF_INIT;

/* The UTF-8 decoding of len bytes, or "(unsupported)". */
static const char *dec(const char *encoding, const char *bytes, size_t len) {
  buf_reset(&out);
  return enc_decode(bytes, len, encoding, &out) == 0 ? buf_str(&out) : "(unsupported)";
}
#define DEC(encoding, lit) dec(encoding, lit, sizeof lit - 1)

static size_t bom;
#define SNIFF(lit, transport) enc_sniff(lit, sizeof lit - 1, transport, &bom)

static const char *lookup(const char *label) { return enc_lookup(label, strlen(label)); }

static void test_labels(void) {
  CHECK_STR(lookup("latin1"), "windows-1252");
  CHECK_STR(lookup("utf8"), "UTF-8");
  CHECK_STR(lookup("sjis"), "Shift_JIS");
  CHECK_STR(lookup("UTF-8"), "UTF-8");
  CHECK_STR(lookup("Utf-8"), "UTF-8");
  CHECK_STR(lookup("  utf-8\t\n"), "UTF-8");
  CHECK_STR(lookup("\f\rUTF8 "), "UTF-8");
  CHECK_STR(lookup("unicode-1-1-utf-8"), "UTF-8");
  CHECK_STR(lookup("x-unicode20utf8"), "UTF-8");
  CHECK_STR(lookup("ISO-8859-1"), "windows-1252");
  CHECK_STR(lookup("iso_8859-1:1987"), "windows-1252");
  CHECK_STR(lookup("ascii"), "windows-1252");
  CHECK_STR(lookup("US-ASCII"), "windows-1252");
  CHECK_STR(lookup("cp819"), "windows-1252");
  CHECK_STR(lookup("iso-8859-9"), "windows-1254");
  CHECK_STR(lookup("latin5"), "windows-1254");
  CHECK_STR(lookup("tis-620"), "windows-874");
  CHECK_STR(lookup("iso-8859-11"), "windows-874");
  CHECK_STR(lookup("cyrillic"), "ISO-8859-5");
  CHECK_STR(lookup("l9"), "ISO-8859-15");
  CHECK_STR(lookup("visual"), "ISO-8859-8");
  CHECK_STR(lookup("logical"), "ISO-8859-8-I");
  CHECK_STR(lookup("csiso88596i"), "ISO-8859-6");
  CHECK_STR(lookup("koi"), "KOI8-R");
  CHECK_STR(lookup("koi8-ru"), "KOI8-U");
  CHECK_STR(lookup("mac"), "macintosh");
  CHECK_STR(lookup("x-mac-ukrainian"), "x-mac-cyrillic");
  CHECK_STR(lookup("cp866"), "IBM866");
  CHECK_STR(lookup("gb2312"), "GBK");
  CHECK_STR(lookup("chinese"), "GBK");
  CHECK_STR(lookup("GB18030"), "gb18030");
  CHECK_STR(lookup("big5-hkscs"), "Big5");
  CHECK_STR(lookup("x-x-big5"), "Big5");
  CHECK_STR(lookup("x-euc-jp"), "EUC-JP");
  CHECK_STR(lookup("csiso2022jp"), "ISO-2022-JP");
  CHECK_STR(lookup("ms932"), "Shift_JIS");
  CHECK_STR(lookup("windows-31j"), "Shift_JIS");
  CHECK_STR(lookup("Shift-JIS"), "Shift_JIS");
  CHECK_STR(lookup("ks_c_5601-1987"), "EUC-KR");
  CHECK_STR(lookup("windows-949"), "EUC-KR");
  CHECK_STR(lookup("utf-16"), "UTF-16LE");
  CHECK_STR(lookup("ucs-2"), "UTF-16LE");
  CHECK_STR(lookup("unicodefffe"), "UTF-16BE");
  CHECK_STR(lookup("iso-2022-kr"), "replacement");
  CHECK_STR(lookup("hz-gb-2312"), "replacement");
  CHECK_STR(lookup("iso-2022-cn-ext"), "replacement");
  CHECK_STR(lookup("x-user-defined"), "x-user-defined");

  /* Every canonical name is also a label of its encoding. */
  static const char *const names[] = {
    "UTF-8", "IBM866", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6",
    "ISO-8859-7", "ISO-8859-8", "ISO-8859-8-I", "ISO-8859-10", "ISO-8859-13", "ISO-8859-14",
    "ISO-8859-15", "ISO-8859-16", "KOI8-R", "KOI8-U", "macintosh", "windows-874", "windows-1250",
    "windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1255", "windows-1256",
    "windows-1257", "windows-1258", "x-mac-cyrillic", "GBK", "gb18030", "Big5", "EUC-JP",
    "ISO-2022-JP", "Shift_JIS", "EUC-KR", "replacement", "UTF-16BE", "UTF-16LE", "x-user-defined",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECK_STR(lookup(names[i]), names[i]);

  CHECK(lookup("utf-7") == NULL);
  CHECK(lookup("utf-32") == NULL);
  CHECK(lookup("latin9") == NULL);
  CHECK(lookup("utf_8") == NULL);
  CHECK(lookup("utf 8") == NULL);
  CHECK(lookup("") == NULL);
  CHECK(lookup(" \t ") == NULL);
  CHECK(lookup("\vutf-8") == NULL);          /* VT is not ASCII whitespace */
  CHECK(lookup("\xC2\xA0utf-8") == NULL);    /* nor is NBSP */
  CHECK(enc_lookup("utf-8\0", 6) == NULL);   /* the length counts, not a NUL */
  CHECK_STR(enc_lookup("utf-8 garbage", 5), "UTF-8");
  CHECK(enc_lookup(NULL, 0) == NULL);
}

static void test_bom(void) {
  CHECK_STR(SNIFF("\xEF\xBB\xBFhi", NULL), "UTF-8");
  CHECK(bom == 3);
  CHECK_STR(SNIFF("\xFE\xFF\0h", NULL), "UTF-16BE");
  CHECK(bom == 2);
  CHECK_STR(SNIFF("\xFF\xFEh\0", NULL), "UTF-16LE");
  CHECK(bom == 2);
  CHECK_STR(SNIFF("\xFF\xFE\0\0", NULL), "UTF-16LE");  /* no UTF-32 on the web */
  CHECK(bom == 2);
  /* A BOM outranks the transport and the document. */
  CHECK_STR(SNIFF("\xEF\xBB\xBF<meta charset=koi8-r>", "windows-1251"), "UTF-8");
  CHECK(bom == 3);
  CHECK_STR(SNIFF("\xFF\xFEh\0", "utf-8"), "UTF-16LE");
  /* An incomplete BOM is no BOM. */
  CHECK_STR(SNIFF("\xEF\xBB", NULL), "windows-1252");
  CHECK(bom == 0);
  CHECK_STR(SNIFF("\xFE", NULL), "windows-1252");
  CHECK(bom == 0);
  CHECK_STR(enc_sniff(NULL, 0, NULL, &bom), "UTF-8");
  CHECK(bom == 0);
  CHECK_STR(enc_sniff("\xEF\xBB\xBF", 3, NULL, NULL), "UTF-8");

  /* Decoding after the BOM. */
  const char doc[] = "\xFF\xFEh\0\xE9\0";
  const char *enc = enc_sniff(doc, sizeof doc - 1, NULL, &bom);
  CHECK_STR(dec(enc, doc + bom, sizeof doc - 1 - bom), "h\xC3\xA9");
}

static void test_transport(void) {
  CHECK_STR(SNIFF("<meta charset=utf-8>caf\xC3\xA9", "ISO-8859-2"), "ISO-8859-2");
  CHECK(bom == 0);
  CHECK_STR(SNIFF("plain", " Shift_JIS\t"), "Shift_JIS");
  CHECK_STR(SNIFF("<meta charset=koi8-r>", "no-such-charset"), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=koi8-r>", ""), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=koi8-r>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("abc", "utf-16"), "UTF-16LE");          /* honoured, unlike in <meta> */
  CHECK_STR(SNIFF("abc", "iso-2022-kr"), "replacement");
  CHECK_STR(SNIFF("abc", "x-user-defined"), "x-user-defined");
}

/* Pads the meta to end at byte `end` (exclusive) of a 2000-byte document. */
static const char *sniff_at(const char *meta, size_t end) {
  static char doc[2000];
  size_t n = strlen(meta);
  memset(doc, ' ', sizeof doc);
  memcpy(doc + end - n, meta, n);
  doc[sizeof doc - 1] = (char)0xE9;  /* invalid UTF-8, so autodetection says windows-1252 */
  return enc_sniff(doc, sizeof doc, NULL, &bom);
}

static void test_prescan(void) {
  CHECK_STR(SNIFF("<meta charset=\"koi8-r\">", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=shift_jis>", NULL), "Shift_JIS");
  CHECK_STR(SNIFF("<META CHARSET='EUC-JP'>", NULL), "EUC-JP");
  CHECK_STR(SNIFF("<!DOCTYPE html><html><head><meta charset=\" iso-8859-5 \"></head>", NULL), "ISO-8859-5");
  CHECK_STR(SNIFF("<meta charset = \"koi8-r\" >", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta\ncharset=koi8-r\n>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta/charset=koi8-r>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta name=x charset=koi8-r>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=koi8-r/>\xE9", NULL), "windows-1252");   /* the value is "koi8-r/" */
  CHECK_STR(SNIFF("<meta charset=\"koi8-r\"/>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=koi8-r charset=utf-8>", NULL), "KOI8-R");  /* a repeat is ignored */
  CHECK_STR(SNIFF("<meta charset=bogus><meta charset=koi8-r>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta charset=><meta charset=koi8-r>", NULL), "KOI8-R");

  /* http-equiv + content */
  CHECK_STR(SNIFF("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">", NULL), "GBK");
  CHECK_STR(SNIFF("<meta content='text/html;charset=koi8-r' http-equiv=content-type>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"text/html; charset='iso-8859-5'\">", NULL),
            "ISO-8859-5");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content='text/html; CHARSET = \"koi8-u\"'>", NULL), "KOI8-U");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"charsetx; charset=big5\">", NULL), "Big5");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"text/html; charset=big5;x\">", NULL), "Big5");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"text/html; charset='koi8-r\">\xE9", NULL),
            "windows-1252");  /* an unmatched quote gives nothing */
  CHECK_STR(SNIFF("<meta content=\"text/html; charset=koi8-r\">\xE9", NULL), "windows-1252");  /* no pragma */
  CHECK_STR(SNIFF("<meta http-equiv=refresh content=\"text/html; charset=koi8-r\">\xE9", NULL), "windows-1252");
  /* charset wins over content whatever the order; content never overrides. */
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"charset=koi8-r\" charset=iso-8859-5>", NULL),
            "ISO-8859-5");
  CHECK_STR(SNIFF("<meta charset=iso-8859-5 http-equiv=content-type content=\"charset=koi8-r\">", NULL),
            "ISO-8859-5");

  /* UTF-16 from a document means UTF-8; x-user-defined means windows-1252. */
  CHECK_STR(SNIFF("<meta charset=\"utf-16\">", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta charset=utf-16be>", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta http-equiv=content-type content=\"text/html; charset=utf-16le\">", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta charset=x-user-defined>", NULL), "windows-1252");
  CHECK_STR(SNIFF("<meta charset=iso-2022-kr>", NULL), "replacement");

  /* Comments and other markup hide what is inside them. */
  CHECK_STR(SNIFF("<!-- <meta charset=koi8-r> --><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<!-- -- > <meta charset=koi8-r> --><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<!--><meta charset=koi8-r>", NULL), "KOI8-R");  /* "<!-->" is a whole comment */
  CHECK_STR(SNIFF("<!---><meta charset=koi8-r>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<!-- <meta charset=koi8-r>\xE9", NULL), "windows-1252");  /* never closed */
  CHECK_STR(SNIFF("<div title=\"<meta charset=koi8-r>\"><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<div title='x' data-x=\"<meta charset=koi8-r>\">\xE9", NULL), "windows-1252");
  CHECK_STR(SNIFF("<!DOCTYPE <meta charset=koi8-r>><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<?php <meta charset=koi8-r> ?><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("</p <meta charset=koi8-r>><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<metax charset=koi8-r>\xE9", NULL), "windows-1252");
  CHECK_STR(SNIFF("< meta charset=koi8-r>", NULL), "UTF-8");   /* "< " starts no tag */
  CHECK_STR(SNIFF("<script>\"<meta charset=koi8-r>\"</script>", NULL), "KOI8-R");  /* no tokenizer here */

  /* Running out of bytes inside the meta aborts the prescan. */
  CHECK_STR(SNIFF("<meta charset=\"koi8-r\"", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta charset=koi8-r", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta charset=\"koi8", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta", NULL), "UTF-8");
  CHECK_STR(SNIFF("<", NULL), "UTF-8");
  CHECK_STR(SNIFF("<meta charset=koi8-r", "koi8-u"), "KOI8-U");

  /* Only the first 1024 bytes are looked at. */
  CHECK_STR(sniff_at("<meta charset=koi8-r>", 1024), "KOI8-R");
  CHECK_STR(sniff_at("<meta charset=koi8-r>", 1025), "windows-1252");
  CHECK_STR(sniff_at("<meta charset=koi8-r>", 1500), "windows-1252");
  CHECK_STR(sniff_at("<meta charset=koi8-r>", 21), "KOI8-R");

  /* An XML declaration counts when no meta does. */
  CHECK_STR(SNIFF("<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><html>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<?xml version='1.0' encoding = 'koi8-r'?>", NULL), "KOI8-R");
  CHECK_STR(SNIFF("<?xml version=\"1.0\" encoding=\"utf-16\"?>", NULL), "UTF-8");
  CHECK_STR(SNIFF("<?xml encoding=\"koi8-r\"?><meta charset=iso-8859-2>", NULL), "ISO-8859-2");
  CHECK_STR(SNIFF("<?xml version=\"1.0\"?><p encoding=\"koi8-r\">\xE9", NULL), "windows-1252");
  CHECK_STR(SNIFF(" <?xml encoding=\"koi8-r\"?>\xE9", NULL), "windows-1252");
  CHECK_STR(SNIFF("<?xml encoding=\"koi8 r\"?>\xE9", NULL), "windows-1252");
  /* UTF-16 without a BOM shows in the bytes of "<?x". */
  CHECK_STR(SNIFF("<\0?\0x\0m\0l\0", NULL), "UTF-16LE");
  CHECK_STR(SNIFF("\0<\0?\0x\0m\0l", NULL), "UTF-16BE");
  CHECK(bom == 0);
}

static void test_autodetect(void) {
  CHECK_STR(SNIFF("plain ascii", NULL), "UTF-8");
  CHECK_STR(SNIFF("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", NULL), "UTF-8");
  CHECK_STR(SNIFF("caf\xE9", NULL), "windows-1252");
  CHECK_STR(SNIFF("caf\xC3", NULL), "windows-1252");        /* cut inside a sequence */
  CHECK_STR(SNIFF("\xED\xA0\x80", NULL), "windows-1252");    /* a surrogate */
  CHECK_STR(SNIFF("\xC0\xAF", NULL), "windows-1252");        /* overlong */
  CHECK_STR(SNIFF("a\0b", NULL), "UTF-8");
  /* Past the prescan's reach, the whole document decides. */
  static char doc[5000];
  memset(doc, 'a', sizeof doc);
  memcpy(doc + 4000, "\xC3\xA9", 2);
  CHECK_STR(enc_sniff(doc, sizeof doc, NULL, &bom), "UTF-8");
  doc[4001] = 'a';
  CHECK_STR(enc_sniff(doc, sizeof doc, NULL, &bom), "windows-1252");
}

static void test_valid_utf8(void) {
  CHECK(enc_valid_utf8("", 0));
  CHECK(enc_valid_utf8(NULL, 0));
  CHECK(enc_valid_utf8("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
  CHECK(enc_valid_utf8("\xEE\x80\x80\xEF\xBF\xBF", 6));
  CHECK(!enc_valid_utf8("\xF4\x90\x80\x80", 4));
  CHECK(!enc_valid_utf8("\xE0\x9F\xBF", 3));
  CHECK(!enc_valid_utf8("\xF0\x8F\xBF\xBF", 4));
  CHECK(!enc_valid_utf8("\xED\xBF\xBF", 3));
  CHECK(!enc_valid_utf8("\xC1\xBF", 2));
  CHECK(!enc_valid_utf8("\xF5\x80\x80\x80", 4));
  CHECK(!enc_valid_utf8("\xBF", 1));
  /* The 8-byte ASCII stride must not skip a bad byte wherever it falls. */
  int stride_ok = 1;
  for (size_t at = 0; at < 40; at++) {
    char s[48];
    memset(s, 'x', sizeof s);
    s[at] = (char)0x80;
    stride_ok &= !enc_valid_utf8(s, sizeof s);
    s[at] = (char)0xC3, s[at + 1] = (char)0xA9;
    stride_ok &= enc_valid_utf8(s, sizeof s);
    stride_ok &= !enc_valid_utf8(s, at + 1);  /* cut after the lead byte */
  }
  CHECK(stride_ok);
}

static void test_utf8_decode(void) {
  CHECK_STR(DEC("UTF-8", "caf\xC3\xA9"), "caf\xC3\xA9");
  CHECK_STR(DEC("UTF-8", "\xEF\xBB\xBFx"), "\xEF\xBB\xBFx");  /* BOMs are the caller's */
  /* One U+FFFD per maximal subpart (Unicode's table 3-8 example). */
  CHECK_STR(DEC("UTF-8", "a\xF1\x80\x80\xE1\x80\xC2" "b\x80" "c\x80\xBF" "d"),
            "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
  CHECK_STR(DEC("UTF-8", "\x80"), FFFD);
  CHECK_STR(DEC("UTF-8", "\xC0\x80"), FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xE0\x80\x80"), FFFD FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xED\xA0\x80"), FFFD FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xF4\x90\x80\x80"), FFFD FFFD FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xF8\x88\x80\x80\x80"), FFFD FFFD FFFD FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xFF\xFE"), FFFD FFFD);
  CHECK_STR(DEC("UTF-8", "\xE2\x82" "\xE2\x82\xAC"), FFFD "\xE2\x82\xAC");
  CHECK_STR(DEC("UTF-8", "\xF0\x9F\x98" "A"), FFFD "A");
  /* Truncated at the end: one U+FFFD for the whole incomplete sequence. */
  CHECK_STR(DEC("UTF-8", "ok\xF0\x9F\x98"), "ok" FFFD);
  CHECK_STR(DEC("UTF-8", "ok\xE2\x82"), "ok" FFFD);
  CHECK_STR(DEC("UTF-8", "ok\xC3"), "ok" FFFD);
}

static void test_single_byte(void) {
  CHECK_STR(DEC("windows-1252", "\x80"), "\xE2\x82\xAC");
  CHECK_STR(DEC("windows-1252", "\x81"), "\xC2\x81");
  CHECK_STR(DEC("windows-1252", "\x92"), "\xE2\x80\x99");
  CHECK_STR(DEC("windows-1252", "\x93"), "\xE2\x80\x9C");
  CHECK_STR(DEC("windows-1252", "\x9D"), "\xC2\x9D");
  CHECK_STR(DEC("windows-1252", "caf\xE9 \xFF"), "caf\xC3\xA9 \xC3\xBF");
  CHECK_STR(DEC("ISO-8859-1", "\x80\xE9"), "\xE2\x82\xAC\xC3\xA9");  /* a label, decoded as windows-1252 */
  CHECK_STR(DEC("latin1", "\x9F"), "\xC5\xB8");
  CHECK_STR(DEC("windows-1250", "\x81\x8A"), "\xC2\x81\xC5\xA0");  /* C1 where Microsoft defines nothing */
  CHECK_STR(DEC("windows-1251", "\xCF\xF0\xE8\xE2\xE5\xF2"), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  CHECK_STR(DEC("windows-1255", "\xCA"), "\xD6\xBA");
  CHECK_STR(DEC("windows-1255", "\xE0\xC4"), "\xD7\x90\xD6\xB4");  /* no composition */
  CHECK_STR(DEC("windows-1255", "\xD9"), FFFD);
  CHECK_STR(DEC("windows-874", "\xDB\xA1"), FFFD "\xE0\xB8\x81");
  CHECK_STR(DEC("KOI8-U", "\xAE\xBE"), "\xD1\x9E\xD0\x8E");
  CHECK_STR(DEC("KOI8-R", "\xC1"), "\xD0\xB0");
  CHECK_STR(DEC("macintosh", "\xC6\xF0\xDB"), "\xE2\x88\x86\xEF\xA3\xBF\xE2\x82\xAC");
  CHECK_STR(DEC("x-mac-cyrillic", "\xFF"), "\xE2\x82\xAC");
  CHECK_STR(DEC("IBM866", "\x80"), "\xD0\x90");
  CHECK_STR(DEC("ISO-8859-2", "\xA1"), "\xC4\x84");
  CHECK_STR(DEC("ISO-8859-3", "\xA5"), FFFD);
  CHECK_STR(DEC("ISO-8859-7", "\xA4"), "\xE2\x82\xAC");
  CHECK_STR(DEC("ISO-8859-8-I", "\xE0\xFD"), "\xD7\x90\xE2\x80\x8E");
  CHECK_STR(DEC("ISO-8859-15", "\xA4"), "\xE2\x82\xAC");
  CHECK_STR(DEC("x-user-defined", "a\x80\xFF"), "a\xEF\x9E\x80\xEF\x9F\xBF");
}

static void test_japanese(void) {
  CHECK_STR(DEC("Shift_JIS", "\x93\xFA\x96\x7B\x8C\xEA"), "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  CHECK_STR(DEC("Shift_JIS", "\x82\xA0"), "\xE3\x81\x82");
  CHECK_STR(DEC("Shift_JIS", "\\~"), "\\~");
  CHECK_STR(DEC("Shift_JIS", "\x80\xA1\xDF"), "\xC2\x80\xEF\xBD\xA1\xEF\xBE\x9F");
  CHECK_STR(DEC("Shift_JIS", "\x87\x40\xFA\x40"), "\xE2\x91\xA0\xE2\x85\xB0");  /* NEC, IBM extensions */
  CHECK_STR(DEC("Shift_JIS", "\xF0\x40"), "\xEE\x80\x80");  /* user-defined area */
  CHECK_STR(DEC("Shift_JIS", "\x82<p>"), FFFD "<p>");       /* an ASCII trail byte is given back */
  CHECK_STR(DEC("Shift_JIS", "\x82\xFF" "a"), FFFD "a");
  CHECK_STR(DEC("Shift_JIS", "\xA0\xFD\xFE\xFF"), FFFD FFFD FFFD FFFD);
  CHECK_STR(DEC("Shift_JIS", "\x85\x40"), FFFD "@");        /* valid shape, no character */
  CHECK_STR(DEC("Shift_JIS", "ok\x82"), "ok" FFFD);

  CHECK_STR(DEC("EUC-JP", "\xC6\xFC\xCB\xDC\xB8\xEC"), "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  CHECK_STR(DEC("EUC-JP", "\xA1\xC1"), "\xEF\xBD\x9E");      /* CP932's mapping, as WHATWG's index */
  CHECK_STR(DEC("EUC-JP", "\xAD\xA1"), "\xE2\x91\xA0");
  CHECK_STR(DEC("EUC-JP", "\x8E\xB1"), "\xEF\xBD\xB1");
  CHECK_STR(DEC("EUC-JP", "\x8F\xB0\xA1"), "\xE4\xB8\x82");  /* JIS X 0212 */
  CHECK_STR(DEC("EUC-JP", "\x8F\xB0" "A"), FFFD "A");
  CHECK_STR(DEC("EUC-JP", "\xC6" "A"), FFFD "A");
  CHECK_STR(DEC("EUC-JP", "\x80\xA0\xFF"), FFFD FFFD FFFD);
  CHECK_STR(DEC("EUC-JP", "ok\xC6"), "ok" FFFD);
  CHECK_STR(DEC("EUC-JP", "ok\x8F\xB0"), "ok" FFFD);

  CHECK_STR(DEC("ISO-2022-JP", "a\x1B$B$\"$$\x1B(Bz"), "a\xE3\x81\x82\xE3\x81\x84z");
  CHECK_STR(DEC("ISO-2022-JP", "\x1B$B-!\x1B(B"), "\xE2\x91\xA0");
  CHECK_STR(DEC("ISO-2022-JP", "\x1B(I1\x1B(B"), "\xEF\xBD\xB1");
  CHECK_STR(DEC("ISO-2022-JP", "\x1B(J\\~\x1B(B\\~"), "\xC2\xA5\xE2\x80\xBE\\~");
  CHECK_STR(DEC("ISO-2022-JP", "\x1B(B\x1B(Ba"), FFFD "a");  /* two escapes in a row */
  CHECK_STR(DEC("ISO-2022-JP", "\x1B$A"), FFFD "$A");
  CHECK_STR(DEC("ISO-2022-JP", "a\x1B"), "a" FFFD);
  CHECK_STR(DEC("ISO-2022-JP", "\x1B$B$"), FFFD);
  CHECK_STR(DEC("ISO-2022-JP", "\x0E\x0F\x80"), FFFD FFFD FFFD);
}

static void test_chinese_korean(void) {
  CHECK_STR(DEC("GBK", "\xC4\xE3\xBA\xC3"), "\xE4\xBD\xA0\xE5\xA5\xBD");
  CHECK_STR(DEC("gb18030", "\xC4\xE3\xBA\xC3"), "\xE4\xBD\xA0\xE5\xA5\xBD");
  CHECK_STR(DEC("GBK", "\x80"), "\xE2\x82\xAC");
  CHECK_STR(DEC("gb18030", "\x81\x30\x81\x30"), "\xC2\x80");
  CHECK_STR(DEC("gb18030", "\x95\x32\x82\x36"), "\xF0\xA0\x80\x80");
  CHECK_STR(DEC("gb18030", "\x84\x31\xA4\x39"), "\xEF\xBF\xBF");
  CHECK_STR(DEC("gb18030", "\xE3\x32\x9A\x35"), "\xF4\x8F\xBF\xBF");
  CHECK_STR(DEC("gb18030", "\xE3\x32\x9A\x36"), FFFD);  /* past U+10FFFF: all four bytes go */
  CHECK_STR(DEC("gb18030", "\x84\x31\xA5\x30"), FFFD);
  CHECK_STR(DEC("gb18030", "\xA3\xA0"), "\xE3\x80\x80");
  CHECK_STR(DEC("gb18030", "\xA6\xD9\x84\x31\x82\x36"), "\xEF\xB8\x90\xEE\x9E\x8D");  /* GB18030-2022 */
  CHECK_STR(DEC("gb18030", "\xFE\x51"), "\xEE\xA0\x96");
  CHECK_STR(DEC("gb18030", "\x81\x30\x41\x30"), FFFD "0A0");
  CHECK_STR(DEC("gb18030", "ok\x81\x30\x81"), "ok" FFFD);
  CHECK_STR(DEC("gb18030", "\xFF"), FFFD);

  CHECK_STR(DEC("Big5", "\xA4\xA4\xA4\xE5"), "\xE4\xB8\xAD\xE6\x96\x87");
  CHECK_STR(DEC("Big5", "\x88\x62\x88\xA5"), "\xC3\x8A\xCC\x84\xC3\xAA\xCC\x8C");
  CHECK_STR(DEC("Big5", "\xA1\xE3\xA2\x44"), "\xEF\xBD\x9E\xEF\xBF\xA5");
  CHECK_STR(DEC("Big5", "\xA3\xC0\xA3\xE0"), "\xE2\x90\x80\xE2\x90\xA1");
  CHECK_STR(DEC("Big5", "\x8E\x69"), "\xE7\xAE\xB8");
  CHECK_STR(DEC("Big5", "\xF9\xFE"), "\xEF\xBF\xAD");
  CHECK_STR(DEC("Big5", "\xA4 x"), FFFD " x");
  CHECK_STR(DEC("Big5", "\x80\xFF"), FFFD FFFD);

  CHECK_STR(DEC("EUC-KR", "\xC7\xD1\xB1\xB9"), "\xED\x95\x9C\xEA\xB5\xAD");
  CHECK_STR(DEC("EUC-KR", "\x81\x41"), "\xEA\xB0\x82");  /* Microsoft's extension */
  CHECK_STR(DEC("EUC-KR", "\x81\x5B"), FFFD "[");
  /* glibc steps past this unmapped pair before reporting it: nothing after it may be lost. */
  CHECK_STR(DEC("EUC-KR", "\xA2\xE8\xC7\xD1"), FFFD "\xED\x95\x9C");
  CHECK_STR(DEC("EUC-KR", "\xC7\xD1\xA2\xE8\xA2\xE8"), "\xED\x95\x9C" FFFD FFFD);
  CHECK_STR(DEC("EUC-KR", "\x80\xFF" "ok\xC7"), FFFD FFFD "ok" FFFD);
}

static void test_misc_decoders(void) {
  CHECK_STR(DEC("UTF-16LE", "h\0i\0\xE9\0"), "hi\xC3\xA9");
  CHECK_STR(DEC("UTF-16BE", "\0h\0i\x20\xAC"), "hi\xE2\x82\xAC");
  CHECK_STR(DEC("UTF-16LE", "\x3D\xD8\x00\xDE"), "\xF0\x9F\x98\x80");
  CHECK_STR(DEC("UTF-16BE", "\xD8\x3D\xDE\x00"), "\xF0\x9F\x98\x80");
  CHECK_STR(DEC("UTF-16LE", "\x3D\xD8" "A\0"), FFFD "A");   /* lead without trail */
  CHECK_STR(DEC("UTF-16LE", "\x00\xDE" "A\0"), FFFD "A");   /* trail without lead */
  CHECK_STR(DEC("UTF-16LE", "\x3D\xD8\x3D\xD8\x00\xDE"), FFFD "\xF0\x9F\x98\x80");
  CHECK_STR(DEC("UTF-16LE", "A\0\x3D\xD8"), "A" FFFD);
  CHECK_STR(DEC("UTF-16LE", "A\0B"), "A" FFFD);             /* odd byte */
  CHECK_STR(DEC("UTF-16LE", "\x3D\xD8\x00"), FFFD);         /* one U+FFFD for both */

  CHECK_STR(DEC("replacement", "anything"), FFFD);
  CHECK_STR(DEC("iso-2022-kr", "\x1B$)C"), FFFD);
  CHECK_STR(dec("replacement", "", 0), "");

  buf_reset(&out);
  CHECK(enc_decode("abc", 3, "utf-7", &out) == -1);
  CHECK(enc_decode("abc", 3, NULL, &out) == -1);
  CHECK(enc_decode("abc", 3, "", &out) == -1);
  CHECK(out.len == 0);
  for (size_t k = 0; k < 2; k++) CHECK(enc_decode(NULL, 0, k ? "Shift_JIS" : "UTF-8", &out) == 0);
  CHECK(out.len == 0);
  /* Output is appended. */
  buf_puts(&out, "x");
  CHECK(enc_decode("\xE9", 1, "windows-1252", &out) == 0);
  CHECK_STR(buf_str(&out), "x\xC3\xA9");
}

/* Bytes no encoding accepts, and NUL bytes that every one keeps. */
static void test_across_encodings(void) {
  static const char *const multi[] = {"UTF-8", "Shift_JIS", "EUC-JP", "ISO-2022-JP", "GBK", "gb18030",
                                      "Big5", "EUC-KR"};
  for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++) {
    CHECK_STR(DEC(multi[i], "a\xFF" "b"), "a" FFFD "b");
    const char *d = DEC(multi[i], "a\0b\0");
    CHECK(d == buf_str(&out) && out.len == 4 && memcmp(d, "a\0b\0", 4) == 0);
  }
  static const char *const single[] = {"windows-1252", "windows-1251", "ISO-8859-2", "KOI8-R", "IBM866",
                                       "x-user-defined"};
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
    const char *d = DEC(single[i], "a\0b");
    CHECK(d == buf_str(&out) && out.len == 3 && memcmp(d, "a\0b", 3) == 0);
  }
  const char *d = DEC("UTF-16LE", "a\0\0\0b\0");
  CHECK(d == buf_str(&out) && out.len == 3 && memcmp(d, "a\0b", 3) == 0);
}

/* Documents larger than the decoders' internal chunks. */
static void test_large(void) {
  enum { REPS = 20000 };
  const char sjis[] = "<p>\x93\xFA\x96\x7B\x8C\xEA</p>\n", utf8[] = "<p>\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E</p>\n";
  const char euckr[] = "\xC7\xD1\xA2\xE8 ", euckr_utf8[] = "\xED\x95\x9C" FFFD " ";
  buf in = BUF_INIT, want = BUF_INIT;
  for (int i = 0; i < REPS; i++) buf_append(&in, sjis, sizeof sjis - 1), buf_append(&want, utf8, sizeof utf8 - 1);
  CHECK_STR(dec("Shift_JIS", in.data, in.len), buf_str(&want));
  buf_reset(&in), buf_reset(&want);
  for (int i = 0; i < REPS; i++)
    buf_append(&in, euckr, sizeof euckr - 1), buf_append(&want, euckr_utf8, sizeof euckr_utf8 - 1);
  CHECK_STR(dec("EUC-KR", in.data, in.len), buf_str(&want));
  buf_reset(&in);
  for (int i = 0; i < REPS; i++) buf_append(&in, utf8, sizeof utf8 - 1);
  in.data[in.len / 2] = (char)0xFF;
  CHECK(enc_valid_utf8(in.data, in.len) == false);
  const char *d = dec("UTF-8", in.data, in.len);
  CHECK(out.len == in.len + 2 && memcmp(d + in.len / 2, FFFD, 3) == 0);
  buf_free(&in);
  buf_free(&want);
}

/* A whole page through sniffing and decoding, as the DOM layer uses them. */
static void test_end_to_end(void) {
  const char page[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">"
                      "<title>\x93\xFA\x96\x7B</title>";
  const char *enc = SNIFF(page, NULL);
  CHECK_STR(enc, "Shift_JIS");
  CHECK_STR(dec(enc, page + bom, sizeof page - 1 - bom),
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">"
            "<title>\xE6\x97\xA5\xE6\x9C\xAC</title>");
}

/* Nothing is shared between calls: decoders run side by side. */
static void *decode_many(void *arg) {
  const char *encoding = arg;
  bool ok = true;
  for (int i = 0; i < 200 && ok; i++) {
    buf b = BUF_INIT;
    ok = enc_decode("\xC7\xD1\xB1\xB9 \x93\xFA\xE9", 8, encoding, &b) == 0 && b.len > 0;
    buf_free(&b);
  }
  return ok ? arg : NULL;
}

static void test_threads(void) {
  static char *const encodings[] = {"windows-1251", "Shift_JIS", "EUC-KR", "KOI8-U"};
  pthread_t t[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, decode_many, encodings[i]) == 0);
  for (int i = 0; i < 4; i++) {
    void *r = NULL;
    CHECK(pthread_join(t[i], &r) == 0 && r == encodings[i]);
  }
}

int main(void) {
  test_labels();
  test_bom();
  test_transport();
  test_prescan();
  test_autodetect();
  test_valid_utf8();
  test_utf8_decode();
  test_single_byte();
  test_japanese();
  test_chinese_korean();
  test_misc_decoders();
  test_across_encodings();
  test_large();
  test_end_to_end();
  test_threads();
  buf_free(&out);
  return check_summary();
}

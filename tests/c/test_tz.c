/* Time zones from the system tz database and page dates read into ISO 8601.
 * Expected offsets were checked against `TZ=zone date` on the same tzdata;
 * hand-built TZif files cover version 1 files, the footer rule forms and
 * malformed input. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tz.h"

static bool leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

/* Seconds since the epoch of a UTC date, counted the slow obvious way. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = d - 1;
  for (int i = 1970; i < y; i++) days += leap(i) ? 366 : 365;
  for (int i = y; i < 1970; i++) days -= leap(i) ? 366 : 365;
  for (int i = 1; i < mo; i++) days += mdays[i - 1] + (i == 2 && leap(y));
  return days * 86400 + h * 3600 + mi * 60 + s;
}

static tz_zone *load(const char *name) {
  char err[256] = "";
  tz_zone *z = tz_load(name, err, sizeof err);
  if (!z) fprintf(stderr, "tz_load(%s): %s\n", name, err);
  CHECK(z != NULL);
  return z;
}

static void refused(const char *name, const char *want) {
  char err[256] = "";
  tz_zone *z = tz_load(name, err, sizeof err);
  CHECK(z == NULL);
  CHECK_STR(err, want);
  tz_free(z);
}

static void reads(const tz_zone *z, const char *text, const char *format, const char *want) {
  buf b = BUF_INIT;
  char err[256] = "";
  int rc = tz_parse(text, format, z, &b, err, sizeof err);
  if (rc != 0) fprintf(stderr, "tz_parse(%s, %s): %s\n", text, format, err);
  CHECK(rc == 0);
  CHECK_STR(buf_str(&b), want);
  buf_free(&b);
}

static void fails(const tz_zone *z, const char *text, const char *format, const char *want) {
  buf b = BUF_INIT;
  char err[256] = "";
  CHECK(tz_parse(text, format, z, &b, err, sizeof err) == -1);
  CHECK(b.len == 0);
  CHECK_STR(err, want);
  buf_free(&b);
}

/* A wall-clock time "YYYY-MM-DD HH:MM" in zone name. */
static void wall(const char *name, const char *local, const char *want) {
  tz_zone *z = load(name);
  if (z) reads(z, local, "%Y-%m-%d %H:%M", want);
  tz_free(z);
}

static void new_york(void) {
  const char *ny = "America/New_York";
  wall(ny, "1800-01-01 00:00", "1800-01-01T00:00:00-04:56:02"); /* local mean time */
  wall(ny, "1970-01-01 00:00", "1970-01-01T00:00:00-05:00");
  wall(ny, "1970-07-01 12:00", "1970-07-01T12:00:00-04:00");
  wall(ny, "1974-01-15 12:00", "1974-01-15T12:00:00-04:00"); /* the 1974 energy-crisis DST */
  wall(ny, "1999-12-31 23:59", "1999-12-31T23:59:00-05:00");
  wall(ny, "2017-01-13 07:30", "2017-01-13T07:30:00-05:00");
  wall(ny, "2017-08-04 05:43", "2017-08-04T05:43:00-04:00");
  wall(ny, "2022-11-30 16:12", "2022-11-30T16:12:00-05:00");
  wall(ny, "2024-07-18 11:00", "2024-07-18T11:00:00-04:00");
  wall(ny, "2037-07-01 00:00", "2037-07-01T00:00:00-04:00");
  wall(ny, "2038-01-19 03:14", "2038-01-19T03:14:00-05:00");
  /* Past the file's last transition (2037): the footer rule. */
  wall(ny, "2040-07-01 00:00", "2040-07-01T00:00:00-04:00");
  wall(ny, "2040-12-25 12:00", "2040-12-25T12:00:00-05:00");
  wall(ny, "2040-03-11 02:30", "2040-03-11T03:30:00-04:00");
  wall(ny, "2040-11-04 01:30", "2040-11-04T01:30:00-04:00");
  wall(ny, "2040-11-04 02:00", "2040-11-04T02:00:00-05:00");
  /* Spring forward 2024-03-10: 02:00 EST becomes 03:00 EDT. */
  wall(ny, "2024-03-10 01:59", "2024-03-10T01:59:00-05:00");
  wall(ny, "2024-03-10 02:00", "2024-03-10T03:00:00-04:00");
  wall(ny, "2024-03-10 02:30", "2024-03-10T03:30:00-04:00");
  wall(ny, "2024-03-10 03:00", "2024-03-10T03:00:00-04:00");
  /* Fall back 2024-11-03: 02:00 EDT becomes 01:00 EST; 01:xx happens twice. */
  wall(ny, "2024-11-03 00:59", "2024-11-03T00:59:00-04:00");
  wall(ny, "2024-11-03 01:00", "2024-11-03T01:00:00-04:00");
  wall(ny, "2024-11-03 01:30", "2024-11-03T01:30:00-04:00");
  wall(ny, "2024-11-03 01:59", "2024-11-03T01:59:00-04:00");
  wall(ny, "2024-11-03 02:00", "2024-11-03T02:00:00-05:00");

  tz_zone *z = load(ny);
  if (!z) return;
  CHECK(tz_offset_at_utc(z, utc(2024, 3, 10, 6, 59, 59)) == -5 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2024, 3, 10, 7, 0, 0)) == -4 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2024, 11, 3, 5, 59, 59)) == -4 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2024, 11, 3, 6, 0, 0)) == -5 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2040, 3, 11, 6, 59, 59)) == -5 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2040, 3, 11, 7, 0, 0)) == -4 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2040, 11, 4, 5, 59, 59)) == -4 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2040, 11, 4, 6, 0, 0)) == -5 * 3600);
  CHECK(tz_offset_at_utc(z, utc(2500, 7, 1, 0, 0, 0)) == -4 * 3600);
  CHECK(tz_offset_at_utc(z, INT64_MIN) == -17762);
  int far = tz_offset_at_utc(z, INT64_MAX);
  CHECK(far == -5 * 3600 || far == -4 * 3600);

  int64_t t = 0;
  CHECK(tz_local_to_utc(z, utc(2024, 11, 3, 1, 30, 0), &t) == 0);
  CHECK(t == utc(2024, 11, 3, 5, 30, 0)); /* the first 01:30, in EDT */
  CHECK(tz_local_to_utc(z, utc(2024, 3, 10, 2, 30, 0), &t) == 0);
  CHECK(t == utc(2024, 3, 10, 7, 30, 0)); /* read in EST: 03:30 EDT */
  CHECK(tz_local_to_utc(z, utc(2017, 8, 4, 5, 43, 0), &t) == 0);
  CHECK(t == utc(2017, 8, 4, 9, 43, 0));
  CHECK(tz_local_to_utc(z, INT64_MAX, &t) == -1);
  CHECK(tz_local_to_utc(z, INT64_MIN, &t) == -1);
  tz_free(z);
}

static void other_zones(void) {
  const char *ldn = "Europe/London";
  wall(ldn, "1970-06-01 12:00", "1970-06-01T12:00:00+01:00"); /* British Standard Time, 1968-71 */
  wall(ldn, "2024-01-15 12:00", "2024-01-15T12:00:00+00:00");
  wall(ldn, "2024-07-15 12:00", "2024-07-15T12:00:00+01:00");
  wall(ldn, "2024-03-31 01:30", "2024-03-31T02:30:00+01:00");
  wall(ldn, "2024-10-27 01:30", "2024-10-27T01:30:00+01:00");
  wall(ldn, "2024-10-27 02:00", "2024-10-27T02:00:00+00:00");
  wall(ldn, "2050-07-01 12:00", "2050-07-01T12:00:00+01:00");

  wall("Asia/Kolkata", "1943-06-01 12:00", "1943-06-01T12:00:00+06:30");
  wall("Asia/Kolkata", "2024-01-01 12:00", "2024-01-01T12:00:00+05:30");
  wall("Asia/Kolkata", "2040-06-01 12:00", "2040-06-01T12:00:00+05:30");

  /* Lord Howe Island moves its clocks by half an hour. */
  const char *lh = "Australia/Lord_Howe";
  wall(lh, "2024-01-15 12:00", "2024-01-15T12:00:00+11:00");
  wall(lh, "2024-07-15 12:00", "2024-07-15T12:00:00+10:30");
  wall(lh, "2024-10-06 02:15", "2024-10-06T02:45:00+11:00");
  wall(lh, "2024-04-07 01:45", "2024-04-07T01:45:00+11:00");
  wall(lh, "2024-04-07 02:00", "2024-04-07T02:00:00+10:30");
  wall(lh, "2045-01-15 12:00", "2045-01-15T12:00:00+11:00");

  /* Southern summer time, switched at midnight, abolished in 2019. */
  const char *sp = "America/Sao_Paulo";
  wall(sp, "2018-01-15 12:00", "2018-01-15T12:00:00-02:00");
  wall(sp, "2018-07-15 12:00", "2018-07-15T12:00:00-03:00");
  wall(sp, "2018-11-04 00:30", "2018-11-04T01:30:00-02:00");
  wall(sp, "2019-02-16 23:30", "2019-02-16T23:30:00-02:00");
  wall(sp, "2019-12-01 12:00", "2019-12-01T12:00:00-03:00");
  wall(sp, "2045-01-15 12:00", "2045-01-15T12:00:00-03:00");

  /* Footers with negative DST (Dublin), negative rule times (Nuuk) and
   * times past 24:00 (Jerusalem). */
  wall("Europe/Dublin", "2045-01-15 12:00", "2045-01-15T12:00:00+00:00");
  wall("Europe/Dublin", "2045-07-15 12:00", "2045-07-15T12:00:00+01:00");
  wall("America/Nuuk", "2045-01-15 12:00", "2045-01-15T12:00:00-02:00");
  wall("America/Nuuk", "2045-07-15 12:00", "2045-07-15T12:00:00-01:00");
  wall("America/Nuuk", "2045-03-25 23:30", "2045-03-26T00:30:00-01:00");
  wall("Asia/Jerusalem", "2045-01-15 12:00", "2045-01-15T12:00:00+02:00");
  wall("Asia/Jerusalem", "2045-07-15 12:00", "2045-07-15T12:00:00+03:00");
  wall("Asia/Jerusalem", "2045-03-24 02:30", "2045-03-24T03:30:00+03:00");

  wall("Etc/UTC", "2024-07-01 12:00", "2024-07-01T12:00:00+00:00");
  wall("UTC", "2024-07-01 12:00", "2024-07-01T12:00:00+00:00");
  wall("Z", "2024-07-01 12:00", "2024-07-01T12:00:00+00:00");
  wall("+05:30", "2024-07-01 12:00", "2024-07-01T12:00:00+05:30");
  wall("-0400", "2024-07-01 12:00", "2024-07-01T12:00:00-04:00");
  wall("+09", "2024-07-01 12:00", "2024-07-01T12:00:00+09:00");
  wall("-00:30", "2024-07-01 12:00", "2024-07-01T12:00:00-00:30");
}

static void bad_names(void) {
  refused("Nowhere/City", "unknown time zone 'Nowhere/City'");
  refused("../../../../etc/passwd", "unknown time zone '../../../../etc/passwd'");
  refused("America/../../../etc/passwd", "unknown time zone 'America/../../../etc/passwd'");
  refused("/etc/passwd", "unknown time zone '/etc/passwd'");
  refused("America/New York", "unknown time zone 'America/New York'");
  refused("zone.tab", "unknown time zone 'zone.tab'");
  refused("America", "unknown time zone 'America'");
  refused("America/New_York/", "unknown time zone 'America/New_York/'");
  refused("", "unknown time zone ''");
  refused("+24:00", "unknown time zone '+24:00'");
  refused("+5:30", "unknown time zone '+5:30'");
  refused("+05:60", "unknown time zone '+05:60'");
  refused("+05:30x", "unknown time zone '+05:30x'");
  refused("-", "unknown time zone '-'");

  char err[256] = "";
  tz_zone *z = tz_load("right/America/New_York", err, sizeof err);
  CHECK(z == NULL);
  CHECK(strstr(err, "leap-second") != NULL);
  tz_free(z);
}

/* ---- hand-built TZif files, loaded through $TZDIR ---- */

static void put32(buf *b, uint32_t v) {
  unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                        (unsigned char)v};
  buf_append(b, c, 4);
}

static void put64(buf *b, int64_t v) {
  put32(b, (uint32_t)((uint64_t)v >> 32));
  put32(b, (uint32_t)v);
}

/* A TZif file of the given version ('\0' for 1): n transitions at[i] to
 * type idx[i], ntypes offsets, and for version 2 and later the footer. */
static void tzif(buf *b, char version, int n, const int64_t *at, const unsigned char *idx, int ntypes,
                 const int32_t *offs, const char *footer) {
  for (int pass = 0; pass < (version ? 2 : 1); pass++) {
    unsigned timesize = pass ? 8 : 4;
    buf_append(b, "TZif", 4);
    buf_putc(b, version);
    buf_append(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
    uint32_t counts[6] = {0, 0, 0, (uint32_t)n, (uint32_t)ntypes, 4};
    for (int i = 0; i < 6; i++) put32(b, counts[i]);
    for (int i = 0; i < n; i++) {
      if (timesize == 8) put64(b, at[i]);
      else put32(b, (uint32_t)at[i]);
    }
    buf_append(b, idx, (size_t)n);
    for (int i = 0; i < ntypes; i++) {
      put32(b, (uint32_t)offs[i]);
      buf_append(b, "\0\0", 2);
    }
    buf_append(b, "ABC", 4);
  }
  if (version) {
    buf_putc(b, '\n');
    buf_puts(b, footer);
    buf_putc(b, '\n');
  }
}

static void save(const char *dir, const char *name, const buf *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(b->data, 1, b->len, f) == b->len);
  fclose(f);
}

static void save_tzif(const char *dir, const char *name, char version, int n, const int64_t *at,
                      const unsigned char *idx, int ntypes, const int32_t *offs, const char *footer) {
  buf b = BUF_INIT;
  tzif(&b, version, n, at, idx, ntypes, offs, footer);
  save(dir, name, &b);
  buf_free(&b);
}

static void refused_file(const char *name, const char *why) {
  char err[256] = "";
  tz_zone *z = tz_load(name, err, sizeof err);
  CHECK(z == NULL);
  if (!strstr(err, why)) fprintf(stderr, "tz_load(%s): %s; want \"%s\"\n", name, err, why);
  CHECK(strstr(err, why) != NULL);
  tz_free(z);
}

static void built_files(void) {
  char dir[] = "/tmp/glean-tz-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  setenv("TZDIR", dir, 1);

  /* Version 1: 32-bit times, no footer. Before the first transition the
   * first type rules; after the last, the last transition's type. */
  static const int64_t at1[2] = {0, 1000};
  static const unsigned char idx1[2] = {1, 2};
  static const int32_t offs1[3] = {-18000, 3600, 7200};
  save_tzif(dir, "v1", '\0', 2, at1, idx1, 3, offs1, "");
  tz_zone *z = load("v1");
  if (z) {
    CHECK(tz_offset_at_utc(z, -1) == -18000);
    CHECK(tz_offset_at_utc(z, 0) == 3600);
    CHECK(tz_offset_at_utc(z, 999) == 3600);
    CHECK(tz_offset_at_utc(z, 1000) == 7200);
    CHECK(tz_offset_at_utc(z, utc(2100, 1, 1, 0, 0, 0)) == 7200);
  }
  tz_free(z);

  /* Julian days without Feb 29 (J60 is always March 1), zero-based days
   * (300 is Oct 28, or Oct 27 in a leap year), a negative time and one past
   * 24:00. No transitions: the footer rules throughout. */
  static const int32_t offs3[1] = {10800};
  save_tzif(dir, "julian", '3', 0, NULL, NULL, 1, offs3, "<+03>-3<+04>,J60/-1,300/26");
  z = load("julian");
  if (z) {
    CHECK(tz_offset_at_utc(z, utc(2023, 2, 28, 19, 59, 59)) == 3 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2023, 2, 28, 20, 0, 0)) == 4 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2023, 10, 28, 21, 59, 59)) == 4 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2023, 10, 28, 22, 0, 0)) == 3 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 2, 29, 19, 59, 59)) == 3 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 2, 29, 20, 0, 0)) == 4 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 10, 27, 21, 59, 59)) == 4 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 10, 27, 22, 0, 0)) == 3 * 3600);
    reads(z, "2023-02-28 23:30", "%Y-%m-%d %H:%M", "2023-03-01T00:30:00+04:00");
    reads(z, "2023-10-29 01:30", "%Y-%m-%d %H:%M", "2023-10-29T01:30:00+04:00");
    reads(z, "1960-07-01 12:00", "%Y-%m-%d %H:%M", "1960-07-01T12:00:00+04:00");
  }
  tz_free(z);

  /* RFC 8536's example of daylight time all year: the year's end (Dec 31
   * 25:00 EDT) meets the next year's start (Jan 1 00:00 EST). */
  static const int32_t offs4[1] = {-14400};
  save_tzif(dir, "allyear", '3', 0, NULL, NULL, 1, offs4, "EST5EDT,0/0,J365/25");
  z = load("allyear");
  if (z) {
    int64_t edge = utc(2024, 1, 1, 5, 0, 0);
    CHECK(tz_offset_at_utc(z, edge - 1) == -4 * 3600);
    CHECK(tz_offset_at_utc(z, edge) == -4 * 3600);
    CHECK(tz_offset_at_utc(z, edge + 1) == -4 * 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 7, 1, 0, 0, 0)) == -4 * 3600);
    reads(z, "2024-01-01 00:30", "%Y-%m-%d %H:%M", "2024-01-01T00:30:00-04:00");
  }
  tz_free(z);

  /* A version 4 file with transitions and a footer, as zic writes them. */
  static const int64_t at5[1] = {-1000000000};
  static const unsigned char idx5[1] = {1};
  static const int32_t offs5[2] = {500, 3600};
  save_tzif(dir, "v4", '4', 1, at5, idx5, 2, offs5, "CET-1CEST,M3.5.0,M10.5.0/3");
  z = load("v4");
  if (z) {
    CHECK(tz_offset_at_utc(z, -1000000001) == 500);
    CHECK(tz_offset_at_utc(z, -1000000000) == 3600);
    CHECK(tz_offset_at_utc(z, utc(2024, 7, 1, 0, 0, 0)) == 7200);
    CHECK(tz_offset_at_utc(z, utc(2024, 12, 1, 0, 0, 0)) == 3600);
  }
  tz_free(z);

  /* Malformed files. */
  buf b = BUF_INIT;
  static const int64_t at6[2] = {1000, 1000};
  static const unsigned char idx6[2] = {0, 0};
  static const int64_t at7[1] = {0};
  static const unsigned char idx7[1] = {3};
  buf_puts(&b, "not a zone file at all, though long enough for a header");
  save(dir, "text", &b);
  buf_reset(&b);
  const char *footer = "CET-1CEST,M3.5.0,M10.5.0/3";
  tzif(&b, '2', 1, at5, idx5, 2, offs5, footer);
  b.len -= strlen(footer) + 2;
  save(dir, "nofooter", &b);
  b.len -= 1;
  save(dir, "truncated", &b);
  buf_reset(&b);
  tzif(&b, '5', 1, at5, idx5, 2, offs5, "CET-1");
  save(dir, "v5", &b);
  buf_reset(&b);
  tzif(&b, '2', 1, at5, idx5, 2, offs5, "EST5EDT"); /* daylight time with no rule */
  save(dir, "norule", &b);
  buf_reset(&b);
  tzif(&b, '2', 1, at5, idx5, 2, offs5, "EST5EDT,M3.2.0,M13.1.0");
  save(dir, "badrule", &b);
  buf_reset(&b);
  tzif(&b, '2', 2, at6, idx6, 1, offs5, "");
  save(dir, "order", &b);
  buf_reset(&b);
  tzif(&b, '2', 1, at7, idx7, 2, offs5, "");
  save(dir, "index", &b);
  buf_free(&b);
  refused_file("text", "no TZif signature");
  refused_file("nofooter", "no footer");
  refused_file("truncated", "truncated data");
  refused_file("v5", "unsupported version");
  refused_file("norule", "bad TZ string in footer");
  refused_file("badrule", "bad TZ string in footer");
  refused_file("order", "transitions out of order");
  refused_file("index", "bad type index");
  refused_file("absent", "unknown time zone 'absent'");

  const char *names[] = {"v1", "julian", "allyear", "v4", "text", "nofooter", "truncated", "v5", "norule", "badrule",
                         "order", "index"};
  char path[512];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    CHECK(unlink(path) == 0);
  }
  CHECK(rmdir(dir) == 0);
  unsetenv("TZDIR");
}

static void formats(void) {
  tz_zone *ny = load("America/New_York");
  if (!ny) return;
  const char *us = "%B %d, %Y, %I:%M %p";
  reads(ny, "August 4, 2017, 5:43 AM", us, "2017-08-04T05:43:00-04:00");
  reads(ny, "August 4, 2017, 5:43 PM", us, "2017-08-04T17:43:00-04:00");
  reads(ny, "January 13, 2017, 12:18 PM", us, "2017-01-13T12:18:00-05:00");
  reads(ny, "January 13, 2017, 12:40 AM", us, "2017-01-13T00:40:00-05:00");
  reads(ny, "January 13, 2017, 7:30 AM", us, "2017-01-13T07:30:00-05:00");
  reads(ny, "AUGUST 4, 2017, 5:43 am", us, "2017-08-04T05:43:00-04:00");
  reads(ny, "august 04, 2017, 05:43 a.m.", us, "2017-08-04T05:43:00-04:00");
  reads(ny, "August 4, 2017, 5:43 P.M.", us, "2017-08-04T17:43:00-04:00");
  reads(ny, "August 4, 2017, 5:43 p.m", us, "2017-08-04T17:43:00-04:00");
  /* No-break space between words, narrow no-break space before AM. */
  reads(ny, "August\xc2\xa0" "4,\xc2\xa0" "2017, 5:43\xe2\x80\xaf" "AM", us, "2017-08-04T05:43:00-04:00");
  reads(ny, "  August 4, 2017, 5:43 AM \n", us, "2017-08-04T05:43:00-04:00");

  /* A trailing zone abbreviation is read and ignored: the zone decides. */
  const char *us_zone = "%B %d, %Y, %I:%M %p %Z";
  reads(ny, "August 4, 2017, 5:43 AM ET", us_zone, "2017-08-04T05:43:00-04:00");
  reads(ny, "January 13, 2017, 7:30 AM EST", us_zone, "2017-01-13T07:30:00-05:00");
  reads(ny, "August 4, 2017, 5:43 AM EST", us_zone, "2017-08-04T05:43:00-04:00");
  reads(ny, "August 4, 2017, 5:43 AM ET", "%B %d, %Y, %I:%M %p ET", "2017-08-04T05:43:00-04:00");

  reads(ny, "January 13, 2017", "%B %d, %Y", "2017-01-13T00:00:00-05:00");
  reads(ny, "February 29, 2024", "%B %d, %Y", "2024-02-29T00:00:00-05:00");
  reads(ny, " January 13, 2017 ", " %B %d, %Y ", "2017-01-13T00:00:00-05:00");
  reads(ny, "Aug. 4, 2017", "%b %d, %Y", "2017-08-04T00:00:00-04:00");
  reads(ny, "Sept. 5, 2017", "%b %d, %Y", "2017-09-05T00:00:00-04:00");
  reads(ny, "Sep 5, 2017", "%b %d, %Y", "2017-09-05T00:00:00-04:00");
  reads(ny, "May 4, 2017", "%b %d, %Y", "2017-05-04T00:00:00-04:00");
  reads(ny, "Aug. 4, 2017", "%b. %d, %Y", "2017-08-04T00:00:00-04:00");
  reads(ny, "Thursday, August 3, 2017", "%A, %B %d, %Y", "2017-08-03T00:00:00-04:00");
  reads(ny, "Thu Aug  3 09:05:00 2017", "%a %b %e %H:%M:%S %Y", "2017-08-03T09:05:00-04:00");
  reads(ny, "Thurs. Aug 3 2017", "%a %b%e %Y", "2017-08-03T00:00:00-04:00");
  reads(ny, "08/04/17", "%m/%d/%y", "2017-08-04T00:00:00-04:00");
  reads(ny, "12/31/69", "%m/%d/%y", "1969-12-31T00:00:00-05:00");
  reads(ny, "20170804 0543", "%Y%m%d %H%M", "2017-08-04T05:43:00-04:00");
  reads(ny, "2017%08%04", "%Y%%%m%%%d", "2017-08-04T00:00:00-04:00");
  reads(ny, "2017-08-04 17:43 PM", "%Y-%m-%d %H:%M %p", "2017-08-04T17:43:00-04:00");
  reads(ny, "2017-08-04 12:30", "%Y-%m-%d %I:%M", "2017-08-04T00:30:00-04:00");

  /* %z overrides the zone, which may then be absent. */
  const char *iso = "%Y-%m-%dT%H:%M:%S%z";
  reads(ny, "2017-08-04T05:43:00+0200", iso, "2017-08-04T05:43:00+02:00");
  reads(NULL, "2017-08-04T05:43:00Z", iso, "2017-08-04T05:43:00+00:00");
  reads(NULL, "2017-08-04T05:43:00-03:30", iso, "2017-08-04T05:43:00-03:30");
  reads(NULL, "2016-12-31T23:59:60Z", iso, "2017-01-01T00:00:00+00:00"); /* a leap second */

  fails(ny, "February 30, 2024", "%B %d, %Y",
        "date 'February 30, 2024' has day 30 at character 10, but February 2024 has 29 days");
  fails(ny, "February 29, 2023", "%B %d, %Y",
        "date 'February 29, 2023' has day 29 at character 10, but February 2023 has 28 days");
  fails(ny, "August 4, 2017, 13:43 PM", us, "date 'August 4, 2017, 13:43 PM' has hour 13 at character 17, outside 1-12");
  fails(ny, "yesterday", "%B %d, %Y",
        "date 'yesterday' does not match format '%B %d, %Y' at character 1: expected a month name");
  fails(ny, "August4, 2017", "%B %d, %Y",
        "date 'August4, 2017' does not match format '%B %d, %Y' at character 7: expected white space");
  fails(ny, "August 4 2017", "%B %d, %Y",
        "date 'August 4 2017' does not match format '%B %d, %Y' at character 9: expected ','");
  fails(ny, "August 4, 2017 at noon", "%B %d, %Y",
        "date 'August 4, 2017 at noon' does not match format '%B %d, %Y' at character 16: expected the end of the date");
  fails(ny, "August\xc2\xa0x, 2017", "%B %d, %Y",
        "date 'August\xc2\xa0x, 2017' does not match format '%B %d, %Y' at character 8: expected a number (day)");
  fails(ny, "August 4, 2017, 5:43 XM", us,
        "date 'August 4, 2017, 5:43 XM' does not match format '%B %d, %Y, %I:%M %p' at character 22: expected AM or PM");
  fails(ny, "2017-13-01", "%Y-%m-%d", "date '2017-13-01' has month 13 at character 6, outside 1-12");
  fails(ny, "2017-08-04 24:00", "%Y-%m-%d %H:%M", "date '2017-08-04 24:00' has hour 24 at character 12, outside 0-23");
  fails(ny, "2017-08-04 05:60", "%Y-%m-%d %H:%M", "date '2017-08-04 05:60' has minute 60 at character 15, outside 0-59");
  fails(ny, "2017-08-04 05:43:61", "%Y-%m-%d %H:%M:%S",
        "date '2017-08-04 05:43:61' has second 61 at character 18, outside 0-60");
  fails(ny, "2017-08-04T05:43:00+2", iso,
        "date '2017-08-04T05:43:00+2' does not match format '%Y-%m-%dT%H:%M:%S%z' at character 20: "
        "expected a UTC offset such as +0530, +05:30 or Z");
  fails(ny, "August 4, 2017, 5:43 AM", "%B %d, %Y, %I:%M %p %Z",
        "date 'August 4, 2017, 5:43 AM' does not match format '%B %d, %Y, %I:%M %p %Z' at character 24: "
        "expected white space");
  fails(ny, "August 4", "%B %d", "format '%B %d' has no year (%Y or %y)");
  fails(ny, "2017 4", "%Y %d", "format '%Y %d' has no month (%m, %B or %b)");
  fails(ny, "2017 12", "%Y %Q", "format '%Y %Q' has unsupported directive %Q");
  fails(ny, "2017 12", "%Y %", "format '%Y %' ends in a lone %");
  fails(NULL, "2017-08-04", "%Y-%m-%d", "date '2017-08-04' has no UTC offset (%z) and no time zone was given");
  tz_free(ny);
}

static void iso_output(void) {
  buf b = BUF_INIT;
  CHECK(tz_format_iso(0, 0, &b) == 0);
  CHECK_STR(buf_str(&b), "1970-01-01T00:00:00+00:00");
  buf_reset(&b);
  CHECK(tz_format_iso(-1, 0, &b) == 0);
  CHECK_STR(buf_str(&b), "1969-12-31T23:59:59+00:00");
  buf_reset(&b);
  CHECK(tz_format_iso(utc(2000, 2, 29, 12, 0, 0), 19800, &b) == 0);
  CHECK_STR(buf_str(&b), "2000-02-29T17:30:00+05:30");
  buf_reset(&b);
  CHECK(tz_format_iso(utc(1800, 1, 1, 4, 56, 2), -17762, &b) == 0);
  CHECK_STR(buf_str(&b), "1800-01-01T00:00:00-04:56:02");
  buf_reset(&b);
  CHECK(tz_format_iso(utc(0, 1, 1, 0, 0, 0), 0, &b) == 0);
  CHECK_STR(buf_str(&b), "0000-01-01T00:00:00+00:00");
  buf_reset(&b);
  CHECK(tz_format_iso(utc(9999, 12, 31, 23, 59, 59), 0, &b) == 0);
  CHECK_STR(buf_str(&b), "9999-12-31T23:59:59+00:00");
  buf_reset(&b);
  CHECK(tz_format_iso(utc(9999, 12, 31, 23, 59, 59) + 1, 0, &b) == -1);
  CHECK(tz_format_iso(utc(0, 1, 1, 0, 0, 0) - 1, 0, &b) == -1);
  CHECK(tz_format_iso(0, 27 * 3600, &b) == -1);
  CHECK(tz_format_iso(INT64_MAX, 0, &b) == -1);
  CHECK(b.len == 0);
  buf_free(&b);
}

/* Zones are loaded and shared by threads with no process-wide state. */
static void *worker(void *shared) {
  intptr_t bad = 0;
  for (int i = 0; i < 50; i++) {
    char err[256];
    tz_zone *own = tz_load(i % 2 ? "Europe/London" : "Australia/Lord_Howe", err, sizeof err);
    buf b = BUF_INIT;
    bad += own == NULL;
    bad += tz_parse("August 4, 2017, 5:43 AM ET", "%B %d, %Y, %I:%M %p %Z", shared, &b, err, sizeof err) != 0;
    bad += strcmp(buf_str(&b), "2017-08-04T05:43:00-04:00") != 0;
    buf_free(&b);
    tz_free(own);
  }
  return (void *)bad;
}

static void threads(void) {
  tz_zone *ny = load("America/New_York");
  if (!ny) return;
  pthread_t th[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, worker, ny) == 0);
  for (int i = 0; i < 4; i++) {
    void *bad = NULL;
    CHECK(pthread_join(th[i], &bad) == 0);
    CHECK(bad == NULL);
  }
  tz_free(ny);
}

int main(void) {
  new_york();
  other_zones();
  bad_names();
  built_files();
  formats();
  iso_output();
  threads();
  return check_summary();
}

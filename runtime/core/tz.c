/* tz.c — time zones and date parsing (see tz.h). The TZif layout follows
 * RFC 8536; footer rules follow the POSIX TZ format with the RFC's version 3
 * extensions (rule times from -167 to 167 hours). */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 8536 asks for UT offsets within -25 to +26 hours; loaded offsets are
 * held to this so that a window of this size around a wall-clock time holds
 * every instant that can show it. */
#define TZ_MAX_OFFSET (26 * 3600)
/* Rule arithmetic clamps instants to about a billion years, where
 * days * 86400 cannot overflow; tz_local_to_utc stays well inside. */
#define TZ_LIMIT (INT64_C(1) << 55)
#define TZ_LOCAL_LIMIT (INT64_C(1) << 54)
#define TZ_FILE_MAX (1 << 20)
#define TZ_NAME_MAX 255

/* One transition date of a POSIX rule. */
typedef struct tz_when {
  char kind;          /* 'J': day 1-365, never counting Feb 29; 'D': day 0-365; 'M': month.week.wday */
  int day, month, week, wday;
  int32_t time;       /* local time of day, in the offset in force before the change */
} tz_when;

typedef struct tz_rule {
  int std_off, dst_off;  /* seconds east of UTC */
  bool has_dst;
  tz_when start, end;    /* into and out of daylight time */
} tz_rule;

struct tz_zone {
  size_t count;     /* transitions */
  int64_t *at;      /* their instants, strictly ascending */
  int *off;         /* the offset from at[i] on */
  int first_off;    /* before at[0]: time type 0 (RFC 8536 section 3.2) */
  bool has_rule;    /* the footer rules after the last transition, or always if count is 0 */
  tz_rule rule;
};

__attribute__((format(printf, 3, 4)))
static void tz_error(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---- calendar (proleptic Gregorian, any year) ---- */

static int64_t tz_floordiv(int64_t a, int64_t b) { return a / b - (a % b < 0); }

static bool tz_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int tz_month_days(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[m - 1] + (m == 2 && tz_leap(y));
}

/* Days from January 1 to the first of month m. */
static int tz_month_start(int64_t y, int m) {
  static const int start[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  return start[m - 1] + (m > 2 && tz_leap(y));
}

/* Days from 1970-01-01 to January 1 of year y: 365 a year plus the leap
 * days of the years in between (1970 itself is preceded by 477 of them). */
static int64_t tz_year_start(int64_t y) {
  int64_t p = y - 1;
  return 365 * (y - 1970) + tz_floordiv(p, 4) - tz_floordiv(p, 100) + tz_floordiv(p, 400) - 477;
}

static int64_t tz_days_from_civil(int64_t y, int m, int d) {
  return tz_year_start(y) + tz_month_start(y, m) + d - 1;
}

static int64_t tz_year_of_day(int64_t day) {
  /* A year averages 146097 / 400 days, so this lands within one of it. */
  int64_t y = 1970 + tz_floordiv(day * 400, 146097);
  while (tz_year_start(y) > day) y--;
  while (tz_year_start(y + 1) <= day) y++;
  return y;
}

/* ---- POSIX TZ rules ---- */

static bool tz_isdigit(char c) { return c >= '0' && c <= '9'; }
static bool tz_isalpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char tz_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Reads 1 to width digits at *s; returns their value, or -1 when there is no digit. */
static int tz_digits(const char **s, int width) {
  const char *p = *s;
  int v = 0;
  while (p - *s < width && tz_isdigit(*p)) v = v * 10 + (*p++ - '0');
  if (p == *s) return -1;
  *s = p;
  return v;
}

static bool tz_number(const char **s, int width, int lo, int hi, int *out) {
  int v = tz_digits(s, width);
  *out = v;
  return v >= lo && v <= hi;
}

/* A zone abbreviation: three or more letters, or <...> around three or more
 * of [A-Za-z0-9+-]. Only its shape matters here. */
static bool tz_posix_name(const char **s) {
  const char *p = *s;
  size_t n = 0;
  if (*p == '<') {
    for (p++; tz_isalpha(*p) || tz_isdigit(*p) || *p == '+' || *p == '-'; p++) n++;
    if (*p++ != '>') return false;
  } else {
    for (; tz_isalpha(*p); p++) n++;
  }
  *s = p;
  return n >= 3;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours, as seconds. */
static bool tz_posix_hms(const char **s, int max_hours, int32_t *secs) {
  int sign = 1, h, m = 0, sec = 0;
  if (**s == '+' || **s == '-') sign = *(*s)++ == '-' ? -1 : 1;
  if (!tz_number(s, 3, 0, max_hours, &h)) return false;
  if (**s == ':') {
    (*s)++;
    if (!tz_number(s, 2, 0, 59, &m)) return false;
    if (**s == ':') {
      (*s)++;
      if (!tz_number(s, 2, 0, 59, &sec)) return false;
    }
  }
  *secs = sign * (h * 3600 + m * 60 + sec);
  return true;
}

static bool tz_posix_date(const char **s, tz_when *w) {
  if (**s == 'M') {
    (*s)++;
    w->kind = 'M';
    if (!tz_number(s, 2, 1, 12, &w->month) || *(*s)++ != '.') return false;
    if (!tz_number(s, 1, 1, 5, &w->week) || *(*s)++ != '.') return false;
    if (!tz_number(s, 1, 0, 6, &w->wday)) return false;
  } else if (**s == 'J') {
    (*s)++;
    w->kind = 'J';
    if (!tz_number(s, 3, 1, 365, &w->day)) return false;
  } else {
    w->kind = 'D';
    if (!tz_number(s, 3, 0, 365, &w->day)) return false;
  }
  w->time = 2 * 3600;
  if (**s != '/') return true;
  (*s)++;
  return tz_posix_hms(s, 167, &w->time);
}

/* Parses a footer such as "EST5EDT,M3.2.0,M11.1.0". POSIX offsets count
 * west of Greenwich; a daylight zone without a rule is left to the
 * implementation by POSIX and never written by zic, so it is refused. */
static bool tz_posix_rule(const char *s, tz_rule *r) {
  int32_t v;
  if (!tz_posix_name(&s) || !tz_posix_hms(&s, 24, &v)) return false;
  r->std_off = -v;
  r->has_dst = *s != '\0';
  if (!r->has_dst) return true;
  if (!tz_posix_name(&s)) return false;
  r->dst_off = r->std_off + 3600;
  if (*s != ',') {
    if (!tz_posix_hms(&s, 24, &v)) return false;
    r->dst_off = -v;
  }
  if (*s++ != ',' || !tz_posix_date(&s, &r->start)) return false;
  if (*s++ != ',' || !tz_posix_date(&s, &r->end)) return false;
  return *s == '\0';
}

/* The instant of w in year y, its time read in offset off. */
static int64_t tz_rule_instant(const tz_when *w, int64_t y, int off) {
  int64_t day;
  if (w->kind == 'J') {
    day = tz_year_start(y) + w->day - 1 + (w->day >= 60 && tz_leap(y));
  } else if (w->kind == 'D') {
    day = tz_year_start(y) + w->day;
  } else {
    int64_t first = tz_days_from_civil(y, w->month, 1);
    int64_t first_wday = (first % 7 + 7 + 4) % 7; /* 1970-01-01 was a Thursday */
    int64_t d = (w->wday - first_wday + 7) % 7 + 7 * (w->week - 1);
    if (d >= tz_month_days(y, w->month)) d -= 7; /* week 5: the last one */
    day = first + d;
  }
  return day * 86400 + w->time - off;
}

/* The rule's offset at t and its next change after t. Five years of
 * transitions bracket t even when v3 rule times reach a week into the
 * neighbouring year. Where a year's end meets the next year's start (DST all
 * year round) the later-listed transition wins, keeping daylight time. */
static int tz_rule_scan(const tz_rule *r, int64_t t, int64_t *next) {
  *next = INT64_MAX;
  if (!r->has_dst) return r->std_off;
  if (t < -TZ_LIMIT) t = -TZ_LIMIT;
  if (t > TZ_LIMIT) t = TZ_LIMIT;
  int64_t year = tz_year_of_day(tz_floordiv(t + r->std_off, 86400));
  int64_t last = INT64_MIN;
  int off = r->std_off;
  for (int64_t y = year - 2; y <= year + 2; y++) {
    int64_t at[2] = {tz_rule_instant(&r->start, y, r->std_off), tz_rule_instant(&r->end, y, r->dst_off)};
    for (int i = 0; i < 2; i++) {
      if (at[i] <= t && at[i] >= last) {
        last = at[i];
        off = i == 0 ? r->dst_off : r->std_off;
      } else if (at[i] > t && at[i] < *next) {
        *next = at[i];
      }
    }
  }
  return off;
}

/* ---- zones ---- */

/* Index of the last transition at or before t, or -1. */
static ptrdiff_t tz_find(const tz_zone *z, int64_t t) {
  size_t lo = 0, hi = z->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (z->at[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return (ptrdiff_t)lo - 1;
}

int tz_offset_at_utc(const tz_zone *z, int64_t utc_seconds) {
  int64_t next;
  if (z->has_rule && (z->count == 0 || utc_seconds > z->at[z->count - 1]))
    return tz_rule_scan(&z->rule, utc_seconds, &next);
  ptrdiff_t i = tz_find(z, utc_seconds);
  return i < 0 ? z->first_off : z->off[i];
}

/* The first offset change after t, if any. */
static bool tz_next_change(const tz_zone *z, int64_t t, int64_t *next) {
  if (z->count && t < z->at[z->count - 1]) {
    *next = z->at[tz_find(z, t) + 1];
    return true;
  }
  if (!z->has_rule || !z->rule.has_dst) return false;
  tz_rule_scan(&z->rule, t, next);
  return true;
}

int tz_local_to_utc(const tz_zone *z, int64_t local_seconds, int64_t *utc) {
  if (local_seconds < -TZ_LOCAL_LIMIT || local_seconds > TZ_LOCAL_LIMIT) return -1;
  /* Walk the stretches of constant offset across the window of instants
   * that could show this wall-clock time; the first stretch that contains
   * local - offset gives the earliest reading. */
  int64_t lo = local_seconds - TZ_MAX_OFFSET, hi = local_seconds + TZ_MAX_OFFSET;
  int64_t from = lo, next;
  int off = tz_offset_at_utc(z, lo);
  bool skipped = false;
  int64_t shifted = local_seconds - off;
  for (;;) {
    int64_t cand = local_seconds - off;
    bool more = tz_next_change(z, from, &next) && next <= hi;
    if (cand >= from && (!more || cand < next)) {
      *utc = cand;
      return 0;
    }
    if (!more) break;
    int next_off = tz_offset_at_utc(z, next);
    /* Clocks jumping from next + off to next + next_off skip this time. */
    if (!skipped && cand >= next && local_seconds - next_off < next) {
      skipped = true;
      shifted = cand;
    }
    from = next;
    off = next_off;
  }
  *utc = shifted;
  return 0;
}

static tz_zone *tz_fixed(int off) {
  tz_zone *z = calloc(1, sizeof *z);
  if (z) z->first_off = off;
  return z;
}

void tz_free(tz_zone *z) {
  if (!z) return;
  free(z->at);
  free(z->off);
  free(z);
}

/* Parses ±hh, ±hhmm or ±hh:mm (hh ≤ 23, mm ≤ 59) at s into *off; returns
 * the bytes read, 0 when s holds no offset. */
static size_t tz_scan_offset(const char *s, int *off) {
  const char *p = s + 1;
  int h, m = 0;
  if ((*s != '+' && *s != '-') || !tz_isdigit(p[0]) || !tz_isdigit(p[1])) return 0;
  h = (p[0] - '0') * 10 + (p[1] - '0');
  p += 2;
  const char *mm = *p == ':' ? p + 1 : p;
  if (tz_isdigit(mm[0]) && tz_isdigit(mm[1])) {
    m = (mm[0] - '0') * 10 + (mm[1] - '0');
    p = mm + 2;
  }
  if (h > 23 || m > 59) return 0;
  *off = (*s == '-' ? -1 : 1) * (h * 3600 + m * 60);
  return (size_t)(p - s);
}

static bool tz_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, "..")) return false;
  for (const char *p = name; *p; p++)
    if (!tz_isalpha(*p) && !tz_isdigit(*p) && !strchr("_+-/", *p)) return false;
  return true;
}

/* Reads a regular file whole. NULL with errno set on failure; ENOENT as
 * well when the path is not a regular file. */
static unsigned char *tz_read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  unsigned char *data = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) goto done;
  if (!S_ISREG(st.st_mode)) {
    errno = ENOENT;
    goto done;
  }
  if (st.st_size > TZ_FILE_MAX) {
    errno = EFBIG;
    goto done;
  }
  size_t size = (size_t)st.st_size, got = 0;
  data = malloc(size + 1); /* never malloc(0), which may return NULL */
  if (!data) goto done;
  while (got < size) {
    ssize_t r = read(fd, data + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  if (got != size) {
    free(data);
    data = NULL;
    errno = EIO;
    goto done;
  }
  *len = size;
done:;
  int saved = errno;
  close(fd);
  errno = saved;
  return data;
}

/* ---- TZif (RFC 8536) ---- */

typedef struct tz_header {
  char version;  /* 0, '2', '3' or '4' */
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tz_header;

static uint32_t tz_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_be64(const unsigned char *p) {
  return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

static const char *tz_read_header(const unsigned char **p, const unsigned char *end, tz_header *h) {
  if (end - *p < 44) return "truncated header";
  const unsigned char *q = *p;
  if (memcmp(q, "TZif", 4) != 0) return "no TZif signature";
  h->version = (char)q[4];
  if (h->version != 0 && (h->version < '2' || h->version > '4')) return "unsupported version";
  h->isutcnt = tz_be32(q + 20);
  h->isstdcnt = tz_be32(q + 24);
  h->leapcnt = tz_be32(q + 28);
  h->timecnt = tz_be32(q + 32);
  h->typecnt = tz_be32(q + 36);
  h->charcnt = tz_be32(q + 40);
  *p = q + 44;
  return NULL;
}

static uint64_t tz_block_size(const tz_header *h, unsigned timesize) {
  return (uint64_t)h->timecnt * (timesize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
         (uint64_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads the data block after header h into z; returns NULL or what is wrong. */
static const char *tz_read_block(const unsigned char **p, const unsigned char *end, const tz_header *h,
                                 unsigned timesize, tz_zone *z) {
  if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0) return "bad type or designation count";
  if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
    return "bad indicator count";
  if (h->leapcnt != 0) return "leap-second records are not supported (use a zone outside right/)";
  if (tz_block_size(h, timesize) > (uint64_t)(end - *p)) return "truncated data";
  const unsigned char *times = *p, *idx = times + (size_t)h->timecnt * timesize;
  const unsigned char *types = idx + h->timecnt;
  int offs[256];
  for (uint32_t i = 0; i < h->typecnt; i++) {
    const unsigned char *t = types + 6 * i;
    int64_t off = (int32_t)tz_be32(t);
    if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET) return "UT offset out of range";
    if (t[4] > 1 || t[5] >= h->charcnt) return "bad local time type";
    offs[i] = (int)off;
  }
  z->count = h->timecnt;
  z->first_off = offs[0];
  if (z->count) {
    z->at = malloc(z->count * sizeof *z->at);
    z->off = malloc(z->count * sizeof *z->off);
    if (!z->at || !z->off) return "out of memory";
  }
  for (size_t i = 0; i < z->count; i++) {
    const unsigned char *t = times + i * timesize;
    z->at[i] = timesize == 8 ? tz_be64(t) : (int32_t)tz_be32(t);
    if (i > 0 && z->at[i] <= z->at[i - 1]) return "transitions out of order";
    if (idx[i] >= h->typecnt) return "bad type index";
    z->off[i] = offs[idx[i]];
  }
  *p += tz_block_size(h, timesize);
  return NULL;
}

/* Fills z from a whole TZif file; the footer's closing newline becomes the
 * end of its TZ string. Returns NULL or what is wrong. */
static const char *tz_read_tzif(unsigned char *data, size_t len, tz_zone *z) {
  const unsigned char *p = data, *end = data + len;
  tz_header h;
  const char *why = tz_read_header(&p, end, &h);
  if (why) return why;
  if (h.version == 0) {
    why = tz_read_block(&p, end, &h, 4, z);
    return why ? why : p == end ? NULL : "trailing data";
  }
  /* Version 2 and later repeat the data with 64-bit times after the
   * 32-bit block, then end in a newline-enclosed TZ string. */
  if (tz_block_size(&h, 4) > (uint64_t)(end - p)) return "truncated data";
  p += tz_block_size(&h, 4);
  if ((why = tz_read_header(&p, end, &h)) || (why = tz_read_block(&p, end, &h, 8, z))) return why;
  if (p == end || *p != '\n') return "no footer";
  unsigned char *footer = data + (p - data) + 1;
  unsigned char *nl = memchr(footer, '\n', (size_t)(end - footer));
  if (!nl || nl + 1 != end) return "bad footer";
  *nl = '\0';
  if (!*footer) return NULL;
  if (!tz_posix_rule((const char *)footer, &z->rule)) return "bad TZ string in footer";
  z->has_rule = true;
  return NULL;
}

tz_zone *tz_load(const char *name, char *err, size_t errlen) {
  int off;
  if (strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0) return tz_fixed(0);
  if (name[0] == '+' || name[0] == '-') {
    if (tz_scan_offset(name, &off) == strlen(name)) return tz_fixed(off);
    tz_error(err, errlen, "unknown time zone '%s'", name);
    return NULL;
  }
  if (!tz_name_ok(name)) {
    tz_error(err, errlen, "unknown time zone '%s'", name);
    return NULL;
  }
  const char *dir = getenv("TZDIR");
  buf path = BUF_INIT;
  buf_puts(&path, dir && *dir ? dir : "/usr/share/zoneinfo");
  buf_putc(&path, '/');
  buf_puts(&path, name);
  size_t len = 0;
  unsigned char *data = path.failed ? NULL : tz_read_file(buf_str(&path), &len);
  tz_zone *z = data ? calloc(1, sizeof *z) : NULL;
  const char *why = z ? tz_read_tzif(data, len, z) : NULL;
  if (!data && (errno == ENOENT || errno == ENOTDIR))
    tz_error(err, errlen, "unknown time zone '%s'", name);
  else if (!z)
    tz_error(err, errlen, "cannot read time zone file '%s' (errno %d)", buf_str(&path), errno);
  else if (why)
    tz_error(err, errlen, "time zone file '%s' is not valid TZif: %s", buf_str(&path), why);
  if (why) {
    tz_free(z);
    z = NULL;
  }
  free(data);
  buf_free(&path);
  return z;
}

/* ---- ISO 8601 output ---- */

int tz_format_iso(int64_t utc, int offset_seconds, buf *out) {
  if (utc < -TZ_LIMIT || utc > TZ_LIMIT) return -1;
  if (offset_seconds < -TZ_MAX_OFFSET || offset_seconds > TZ_MAX_OFFSET) return -1;
  int64_t local = utc + offset_seconds;
  int64_t day = tz_floordiv(local, 86400), secs = local - day * 86400;
  int64_t y = tz_year_of_day(day);
  if (y < 0 || y > 9999) return -1;
  int doy = (int)(day - tz_year_start(y)), m = 1;
  while (m < 12 && doy >= tz_month_start(y, m + 1)) m++;
  int a = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  char s[40];
  int n = snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)y, m,
                   doy - tz_month_start(y, m) + 1, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
                   offset_seconds < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  if (a % 60) n += snprintf(s + n, sizeof s - (size_t)n, ":%02d", a % 60);
  buf_append(out, s, (size_t)n);
  return 0;
}

/* ---- parsing date text ---- */

static const char *const tz_month_names[12] = {"january", "february", "march", "april", "may", "june",
                                                "july", "august", "september", "october", "november", "december"};
static const char *const tz_wday_names[7] = {"sunday", "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};

/* Bytes of the white-space character at s, 0 if there is none: ASCII white
 * space, or in UTF-8 U+00A0, U+2000-U+200A, U+202F, U+205F and U+3000
 * (pages put no-break and narrow no-break spaces inside dates). */
static size_t tz_space(const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r')) return 1;
  if (u[0] == 0xC2 && u[1] == 0xA0) return 2;
  if (u[0] == 0xE2 && u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xAF)) return 3;
  if ((u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) || (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)) return 3;
  return 0;
}

static const char *tz_skip_space(const char *s) {
  for (size_t n; (n = tz_space(s)); ) s += n;
  return s;
}

/* Reads an English name from names at *s: in full, or cut to three or more
 * letters ("Sept", "Thurs") and then optionally followed by a "." (when
 * dot_ok). Returns its index, or -1. */
static int tz_name(const char **s, const char *const *names, int count, bool dot_ok) {
  for (int i = 0; i < count; i++) {
    size_t n = 0;
    while (names[i][n] && tz_lower((*s)[n]) == names[i][n]) n++;
    if (n < 3) continue;
    bool cut = names[i][n] != '\0';
    *s += n;
    if (cut && dot_ok && **s == '.') (*s)++;
    return i;
  }
  return -1;
}

typedef struct tz_ctx {
  const char *text, *format;
  char *err;
  size_t errlen;
} tz_ctx;

/* The 1-based position of at in the text, counted in characters. */
static int tz_column(const tz_ctx *c, const char *at) {
  int col = 1;
  for (const char *p = c->text; p < at; p++)
    if (((unsigned char)*p & 0xC0) != 0x80) col++;
  return col;
}

static bool tz_mismatch(const tz_ctx *c, const char *at, const char *want) {
  tz_error(c->err, c->errlen, "date '%s' does not match format '%s' at character %d: expected %s", c->text,
           c->format, tz_column(c, at), want);
  return false;
}

/* Reads a number of 1 to width digits within lo..hi into *out. */
static bool tz_field(const tz_ctx *c, const char **t, int width, int lo, int hi, const char *what, int *out) {
  const char *at = *t;
  int v = tz_digits(t, width);
  if (v < 0) {
    char want[64];
    snprintf(want, sizeof want, "a number (%s)", what);
    tz_mismatch(c, at, want);
    return false;
  }
  if (v < lo || v > hi) {
    tz_error(c->err, c->errlen, "date '%s' has %s %d at character %d, outside %d-%d", c->text, what, v,
             tz_column(c, at), lo, hi);
    return false;
  }
  *out = v;
  return true;
}

/* What the format has read so far; -1 marks a date part not yet seen. */
typedef struct tz_fields {
  int year, month, day, hour, minute, second;
  const char *day_at;  /* where the day was read, for the error if the month is shorter */
  bool hour12;         /* the hour came from %I */
  bool pm;
  bool has_zone;       /* %z was read; zone_off overrides the zone */
  int zone_off;
} tz_fields;

/* Reads one conversion (the character after '%') at *t into f. */
static bool tz_convert(const tz_ctx *c, char conv, bool dot_next, const char **t, tz_fields *f) {
  const char *at = *t;
  int v;
  switch (conv) {
  case 'Y': return tz_field(c, t, 4, 0, 9999, "year", &f->year);
  case 'y':
    if (!tz_field(c, t, 2, 0, 99, "year", &v)) return false;
    f->year = v < 69 ? 2000 + v : 1900 + v;
    return true;
  case 'm': return tz_field(c, t, 2, 1, 12, "month", &f->month);
  case 'e':
    *t = tz_skip_space(*t);
    /* fall through */
  case 'd':
    f->day_at = *t;
    return tz_field(c, t, 2, 1, 31, "day", &f->day);
  case 'H':
    f->hour12 = false;
    return tz_field(c, t, 2, 0, 23, "hour", &f->hour);
  case 'I':
    f->hour12 = true;
    return tz_field(c, t, 2, 1, 12, "hour", &f->hour);
  case 'M': return tz_field(c, t, 2, 0, 59, "minute", &f->minute);
  case 'S': return tz_field(c, t, 2, 0, 60, "second", &f->second);
  case 'p': {
    /* AM, PM, a.m., p.m. (the last dot may be missing at the end). */
    const char *p = *t;
    char ap = tz_lower(*p);
    if (ap != 'a' && ap != 'p') return tz_mismatch(c, at, "AM or PM");
    bool dotted = *++p == '.';
    if (dotted) p++;
    if (tz_lower(*p++) != 'm') return tz_mismatch(c, at, "AM or PM");
    if (dotted && *p == '.') p++;
    f->pm = ap == 'p';
    *t = p;
    return true;
  }
  case 'B':
  case 'b':
    if ((v = tz_name(t, tz_month_names, 12, !dot_next)) < 0) return tz_mismatch(c, at, "a month name");
    f->month = v + 1;
    return true;
  case 'A':
  case 'a':
    if (tz_name(t, tz_wday_names, 7, !dot_next) < 0) return tz_mismatch(c, at, "a weekday name");
    return true;
  case 'z': {
    size_t n;
    if (tz_lower(**t) == 'z') {
      f->zone_off = 0;
      (*t)++;
    } else if ((n = tz_scan_offset(*t, &f->zone_off))) {
      *t += n;
    } else {
      return tz_mismatch(c, at, "a UTC offset such as +0530, +05:30 or Z");
    }
    f->has_zone = true;
    return true;
  }
  case 'Z':
    if (!tz_isalpha(**t)) return tz_mismatch(c, at, "a time zone abbreviation");
    while (tz_isalpha(**t)) (*t)++;
    return true;
  case '%':
    if (**t != '%') return tz_mismatch(c, at, "'%'");
    (*t)++;
    return true;
  default:
    if (conv == '\0') tz_error(c->err, c->errlen, "format '%s' ends in a lone %%", c->format);
    else tz_error(c->err, c->errlen, "format '%s' has unsupported directive %%%c", c->format, conv);
    return false;
  }
}

/* Bytes of the UTF-8 sequence that starts with lead byte b. */
static size_t tz_utf8_len(unsigned char b) { return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

int tz_parse(const char *text, const char *format, const tz_zone *z, buf *out_iso, char *err, size_t errlen) {
  tz_ctx c = {text, format, err, errlen};
  tz_fields f = {.year = -1, .month = -1, .day = -1};
  const char *t = tz_skip_space(text), *fmt = tz_skip_space(format), *fend = fmt;
  /* White space closing the format matches the text's trimmed end. */
  for (const char *p = fmt; *p;) {
    size_t n = tz_space(p);
    p += n ? n : 1;
    if (!n) fend = p;
  }
  while (fmt < fend) {
    if (tz_space(fmt)) {
      fmt = tz_skip_space(fmt);
      const char *after = tz_skip_space(t);
      if (after == t) {
        tz_mismatch(&c, t, "white space");
        return -1;
      }
      t = after;
    } else if (*fmt == '%') {
      char conv = fmt + 1 < fend ? fmt[1] : '\0';
      fmt += conv ? 2 : 1;
      if (!tz_convert(&c, conv, fmt < fend && *fmt == '.', &t, &f)) return -1;
    } else {
      size_t n = tz_utf8_len((unsigned char)*fmt);
      for (size_t i = 0; i < n; i++)
        if (tz_lower(t[i]) != tz_lower(fmt[i]) || !t[i]) {
          char want[16];
          snprintf(want, sizeof want, "'%.*s'", (int)n, fmt);
          tz_mismatch(&c, t, want);
          return -1;
        }
      t += n;
      fmt += n;
    }
  }
  t = tz_skip_space(t);
  if (*t) {
    tz_mismatch(&c, t, "the end of the date");
    return -1;
  }
  const char *missing = f.year < 0 ? "year (%Y or %y)" : f.month < 0 ? "month (%m, %B or %b)"
                      : f.day < 0 ? "day (%d or %e)" : NULL;
  if (missing) {
    tz_error(err, errlen, "format '%s' has no %s", format, missing);
    return -1;
  }
  if (f.day > tz_month_days(f.year, f.month)) {
    const char *month = tz_month_names[f.month - 1];
    tz_error(err, errlen, "date '%s' has day %d at character %d, but %c%s %d has %d days", text, f.day,
             tz_column(&c, f.day_at), month[0] - 32, month + 1, f.year, tz_month_days(f.year, f.month));
    return -1;
  }
  int hour = f.hour12 ? f.hour % 12 + (f.pm ? 12 : 0) : f.hour;
  int64_t local = tz_days_from_civil(f.year, f.month, f.day) * 86400 + hour * 3600 + f.minute * 60 + f.second;
  int64_t utc = local - f.zone_off;
  int off = f.zone_off;
  if (!f.has_zone) {
    if (!z) {
      tz_error(err, errlen, "date '%s' has no UTC offset (%%z) and no time zone was given", text);
      return -1;
    }
    tz_local_to_utc(z, local, &utc);
    off = tz_offset_at_utc(z, utc);
  }
  if (tz_format_iso(utc, off, out_iso) != 0) {
    tz_error(err, errlen, "date '%s' falls outside years 0000-9999", text);
    return -1;
  }
  return 0;
}

/* tz.h — time zones from the system tz database (TZif files, RFC 8536, with
 * their POSIX TZ-string footers) and the turning of a page's date text into
 * ISO 8601 with the offset in force at that instant. Nothing here reads or
 * changes process-wide time state (TZ, tzset, localtime), so it is safe in
 * threaded hosts; a loaded zone is immutable and may be shared by threads. */
#ifndef GLEAN_TZ_H
#define GLEAN_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct tz_zone tz_zone;

/* Loads a zone: "UTC" or "Z"; a fixed offset "+hh", "+hhmm" or "+hh:mm"
 * (or with "-"; hh up to 23); otherwise the TZif file NAME (version 1 to 4)
 * under $TZDIR, or /usr/share/zoneinfo when that is unset. Names are
 * relative paths of [A-Za-z0-9_+-/] without "..": anything else, and any
 * name without a file, fails with "unknown time zone 'NAME'". Files with
 * leap-second records (the "right/" zones) are refused, since their
 * timestamps do not count POSIX seconds. Returns NULL with a message in err
 * (when err is not NULL) on failure. Reads only the file: safe to call from
 * several threads. */
tz_zone *tz_load(const char *name, char *err, size_t errlen);
void tz_free(tz_zone *z);

/* The UTC offset, in seconds east of Greenwich, in force at the instant
 * utc_seconds (seconds since 1970-01-01T00:00:00Z). */
int tz_offset_at_utc(const tz_zone *z, int64_t utc_seconds);

/* Stores in *utc the instant at which the zone's wall clock reads
 * local_seconds (counted from 1970-01-01T00:00:00 as if local time were
 * UTC). A time the clocks show twice (the hour repeated when they fall back)
 * resolves to the earlier instant, the first occurrence. A time the clocks
 * skip (the hour lost when they spring forward) is read with the offset in
 * force before the change, so it lands after it, pushed forward by the
 * length of the gap: 02:30 on a 02:00 → 03:00 night becomes 03:30. Returns
 * 0, or -1 when local_seconds lies beyond about 500 million years from
 * 1970. */
int tz_local_to_utc(const tz_zone *z, int64_t local_seconds, int64_t *utc);

/* Appends "YYYY-MM-DDTHH:MM:SS+hh:mm": the wall-clock time at utc under
 * offset_seconds, then that offset (always numeric, "+00:00" for UTC; with
 * ":ss" appended when it is not a whole minute, as local mean times are).
 * Returns 0, or -1 without appending when the local year falls outside
 * 0000-9999 or the offset exceeds 26 hours. */
int tz_format_iso(int64_t utc, int offset_seconds, buf *out);

/* Reads text by format and appends its ISO 8601 form (tz_format_iso) for
 * that wall-clock time in zone z (see tz_local_to_utc for repeated and
 * skipped times). Returns 0, or -1 with a message in err naming what failed
 * and at which character of text.
 *
 * Format directives: %Y (1-4 digits) %y (69-99 → 19xx, 00-68 → 20xx)
 * %m %d %e (1-2 digits; %e may be preceded by spaces) %H (0-23) %I (1-12)
 * %M %S (0-60; a leap second counts into the next minute) %p (AM, PM, a.m.,
 * p.m., any case; without %p an %I hour is AM; with %H it is ignored)
 * %B %b (English month names, full or abbreviated to 3 or more letters as
 * in "Sept", optionally followed by "." unless the format puts one there)
 * %A %a (weekday names likewise, read and ignored) %z ("Z", +hh, +hhmm,
 * +hh:mm; overrides z, which may then be NULL) %Z (a word of letters such as
 * "ET" or "EST", read and ignored: the zone z decides the offset) %%.
 * White space in the format matches one or more white-space characters
 * (including U+00A0 and the other Unicode space separators); any other
 * character matches itself, letters in either case. White space around the
 * text is ignored. The date needs a year, a month and a day; a time left out
 * is midnight. */
int tz_parse(const char *text, const char *format, const tz_zone *z, buf *out_iso, char *err,
             size_t errlen);

#endif

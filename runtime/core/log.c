/* log.c — leveled diagnostics (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const log_names[] = {"debug", "info", "warn", "error", "off"};

const char *log_level_name(log_level level) { return log_names[level]; }

int log_level_parse(const char *name) {
  for (int i = 0; i <= LOG_OFF; i++)
    if (strcmp(name, log_names[i]) == 0) return i;
  return -1;
}

void log_msg(const logger *lg, log_level level, const char *fmt, ...) {
  if (level < lg->level || level >= LOG_OFF) return;
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (lg->handler) {
    lg->handler(lg->ud, level, msg);
    return;
  }
  /* One write per line so concurrent writers never interleave within a line. */
  char line[4200];
  int n = snprintf(line, sizeof line, "glean: %s: %s\n", log_names[level], msg);
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1, line[n - 1] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}

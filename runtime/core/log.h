/* log.h — leveled diagnostics. Every runtime owns a logger; messages go to
 * its handler (stderr unless the host replaces it), never to stdout, which
 * carries records only. */
#ifndef GLEAN_LOG_H
#define GLEAN_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF } log_level;

typedef void (*log_handler)(void *ud, log_level level, const char *msg);

typedef struct logger {
  log_level level;      /* messages below it are dropped */
  log_handler handler;  /* NULL: write to stderr */
  void *ud;
} logger;

void log_msg(const logger *lg, log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *log_level_name(log_level level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int log_level_parse(const char *name);

#endif

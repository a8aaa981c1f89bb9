/* main.c — the glean command: runs Lua scripts with the glean library, and
 * dispatches the subcommands (run, test, shell, state, status) that drive adapters.
 *
 *   glean SCRIPT.lua [ARGS...]   run a script; `arg` as lua sets it
 *   glean -e CODE                run a chunk of code
 *   glean --version | --help
 *
 * Exit status: 0 success, 1 a Lua error (message and traceback on stderr),
 * 2 a usage error or a script that cannot be read. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "glean.h"

static const char usage[] =
  "usage: glean SCRIPT.lua [ARGS...]     run a Lua script with the glean library\n"
  "       glean -e CODE [ARGS...]        run CODE\n"
  "       glean run ADAPTER [URL...]     crawl with a site adapter (glean run --help)\n"
  "       glean test ADAPTER --expect F  compare an adapter's records with F's (glean test --help)\n"
  "       glean shell URL|FILE           a Lua prompt with the page loaded, to try selectors\n"
  "       glean state PATH               what a crawl state file (glean run --state) holds\n"
  "       glean status PATH|redis://...  a crawl's progress: its state file, or its --frontier\n"
  "       glean --version                print the version\n"
  "       glean --help                   print this help\n"
  "\n"
  "Scripts get the glean library through require \"glean\" (also the global glean):\n"
  "glean.html, glean.json, glean.emit (records as JSON lines on stdout), glean.log\n"
  "(stderr; GLEAN_LOG_LEVEL=debug|info|warn|error|off).\n";

/* Adds a traceback to an error message, as lua.c does. */
static int cli_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void cli_report(lua_State *L) {
  fprintf(stderr, "glean: %s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* The global `arg` as lua sets it: arg[0] the script, arg[1..] its
 * arguments, arg[-1] the interpreter; the arguments are also pushed as the
 * chunk's varargs. Returns how many were pushed. */
static int cli_set_args(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
  luaL_checkstack(L, argc - script + 3, "too many arguments to the script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  return argc - script - 1;
}

static lua_State *cli_new_state(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  luaL_requiref(L, "glean", luaopen_glean, 1);
  lua_pop(L, 1);
  return L;
}

/* Runs the loaded chunk below nargs arguments; returns the exit status. */
static int cli_call(lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, cli_msghandler);
  lua_insert(L, base);
  int rc = lua_pcall(L, nargs, 0, base);
  lua_remove(L, base);
  if (rc != LUA_OK) {
    cli_report(L);
    return 1;
  }
  return 0;
}

/* Ctrl-C (or SIGTERM) during a crawl: the first asks it to finish what is
 * in flight, the second to stop now; the crawl reads the count, and the
 * last signal for the exit status (128 + its number), through
 * glean.interrupts(). The second also ends the adapter code running, as a
 * time limit does (glean_lua_interrupt), and gives the crawl CLI_STOP_SECONDS
 * to wrap up; a call the runtime cannot stop (a long parse) or a third
 * signal ends the process there and then. Records stay whole: glean.emit
 * blocks signals while it writes one, so they are handled on the main
 * thread, which other threads (the parse workers, curl's) pass theirs to. */
#define CLI_STOP_SECONDS 2

static volatile sig_atomic_t cli_interrupts, cli_signal;
static lua_State *cli_state;
static pthread_t cli_main;

static void cli_on_signal(int sig) {
  if (!pthread_equal(pthread_self(), cli_main)) {
    pthread_kill(cli_main, sig);
    return;
  }
  if (sig == SIGALRM) _exit(128 + cli_signal);
  if (cli_interrupts < 1000) cli_interrupts++;
  cli_signal = sig;
  if (cli_interrupts == 2) {
    glean_lua_interrupt(cli_state);
    alarm(CLI_STOP_SECONDS);
  } else if (cli_interrupts > 2) {
    _exit(128 + sig);
  }
}

static int cli_get_interrupts(lua_State *L) {
  lua_pushinteger(L, cli_interrupts);
  lua_pushinteger(L, cli_signal);
  return 2;
}

/* glean run / test / shell / state: written in Lua (glean.cli); returns its status. */
static int cli_subcommand(int argc, char **argv) {
  lua_State *L = cli_new_state();
  if (!L) {
    fputs("glean: cannot create a Lua state: out of memory\n", stderr);
    return 1;
  }
  cli_state = L;
  cli_main = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = cli_on_signal;
  sigfillset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  lua_getglobal(L, "glean");
  lua_pushcfunction(L, cli_get_interrupts);
  lua_setfield(L, -2, "interrupts");
  lua_pop(L, 1);

  lua_pushcfunction(L, cli_msghandler);
  int handler = lua_gettop(L);
  luaL_loadstring(L, "local command, args = ...\nreturn require('glean.cli')[command](args)");
  lua_pushstring(L, argv[1]);
  lua_createtable(L, argc - 2, 0);
  for (int i = 2; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  int rc;
  if (lua_pcall(L, 2, 1, handler) != LUA_OK) {
    cli_report(L);
    rc = 1;
  } else {
    rc = (int)lua_tointeger(L, -1);
  }
  /* Stopping now: what the state holds goes with the process. */
  if (cli_interrupts < 2) lua_close(L);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("glean %s (%s)\n", glean_version(), LUA_RELEASE);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "test") == 0 || strcmp(argv[1], "shell") == 0 ||
      strcmp(argv[1], "state") == 0 || strcmp(argv[1], "status") == 0)
    return cli_subcommand(argc, argv);
  int is_code = strcmp(argv[1], "-e") == 0;
  if (is_code && argc < 3) {
    fputs("glean: -e needs an argument\n", stderr);
    return 2;
  }
  if (!is_code && argv[1][0] == '-' && argv[1][1] != '\0') {
    fprintf(stderr, "glean: unknown option '%s' (see glean --help)\n", argv[1]);
    return 2;
  }

  lua_State *L = cli_new_state();
  if (!L) {
    fputs("glean: cannot create a Lua state: out of memory\n", stderr);
    return 1;
  }
  int status;
  int script = is_code ? 2 : 1;
  if (is_code) {
    status = luaL_loadbuffer(L, argv[2], strlen(argv[2]), "=(command line)");
  } else {
    FILE *f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
    if (!f) {
      fprintf(stderr, "glean: cannot open script '%s': %s\n", argv[1], strerror(errno));
      lua_close(L);
      return 2;
    }
    if (f != stdin) fclose(f);
    status = luaL_loadfile(L, strcmp(argv[1], "-") == 0 ? NULL : argv[1]);
  }
  if (status != LUA_OK) {
    cli_report(L);
    lua_close(L);
    return status == LUA_ERRFILE ? 2 : 1;
  }
  int nargs = cli_set_args(L, argv, argc, script);
  int rc = cli_call(L, nargs);
  lua_close(L);
  return rc;
}

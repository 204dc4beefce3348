/* banned.h: calls that are too easy to misuse (git's habit).
 * Include it after every other header; `make lint` (run by `make check`) also
 * greps the tree for these names so a file that forgot the include is caught.
 */
#ifndef FERRY_BANNED_H
#define FERRY_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_ferry

#undef strcpy
#define strcpy(a, b) BANNED (strcpy)
#undef strcat
#define strcat(a, b) BANNED (strcat)
#undef sprintf
#define sprintf(...) BANNED (sprintf)
#undef vsprintf
#define vsprintf(...) BANNED (vsprintf)
#undef strtok
#define strtok(a, b) BANNED (strtok)
#undef gets
#define gets(a) BANNED (gets)

#endif

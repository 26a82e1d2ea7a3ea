#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# gen_cproject.sh DIR [FILES]: writes a small C project into DIR for the build benchmark of
# bench_docklock: FILES (default 24) translation units of a few hundred lines each (loops,
# structs, switch tables, inline helpers: enough for gcc -O2 to work), a header, a main that
# calls into every unit, and build.sh, which compiles each unit with gcc -O2, links and runs
# the program. Deterministic: the same arguments give the same files.
set -eu
dir=$1
n=${2:-24}
mkdir -p "$dir"
cat > "$dir/proj.h" <<'H'
#ifndef PROJ_H
#define PROJ_H
#include <stddef.h>
#include <stdint.h>
typedef struct vec { double x, y, z; } vec;
typedef struct rec { uint32_t id; char name[24]; vec pos; uint64_t flags; } rec;
H
i=0
while [ "$i" -lt "$n" ]; do
    echo "uint64_t unit$i(uint64_t seed);" >> "$dir/proj.h"
    f="$dir/unit$i.c"
    {
        echo '#include <stdio.h>'
        echo '#include <stdlib.h>'
        echo '#include <string.h>'
        echo '#include "proj.h"'
        j=0
        while [ "$j" -lt 6 ]; do
            cat <<C
static inline uint64_t mix${j}(uint64_t v) { v ^= v >> 31; v *= 0x9e3779b97f4a7c15ull + $j; return v ^ (v >> 29); }
static int cmp${j}(const void *a, const void *b)
{
    const rec *ra = a, *rb = b;
    if (ra->pos.x != rb->pos.x) return ra->pos.x < rb->pos.x ? -1 : 1;
    return strcmp(ra->name, rb->name);
}
static uint64_t work${j}(uint64_t seed)
{
    rec r[64];
    for (int k = 0; k < 64; k++) {
        r[k].id = (uint32_t)mix${j}(seed + (uint64_t)k);
        snprintf(r[k].name, sizeof(r[k].name), "n%u.%d", r[k].id % 1000u, k);
        r[k].pos = (vec){(double)(r[k].id % 97u), (double)k * 0.5, (double)(seed % 13u)};
        r[k].flags = mix${j}(r[k].id);
    }
    qsort(r, 64, sizeof(rec), cmp${j});
    uint64_t acc = seed;
    for (int k = 0; k < 64; k++) {
        switch ((r[k].flags + $j) % 8u) {
        case 0: acc += r[k].id; break;
        case 1: acc ^= r[k].flags << 3; break;
        case 2: acc = mix${j}(acc + (uint64_t)r[k].pos.x); break;
        case 3: acc -= (uint64_t)(r[k].pos.y * 3.0); break;
        case 4: acc = acc * 31u + (uint64_t)strlen(r[k].name); break;
        case 5: acc = (acc << 7) | (acc >> 57); break;
        case 6: acc += (uint64_t)(r[k].pos.x * r[k].pos.y + r[k].pos.z); break;
        default: acc ^= mix${j}(acc); break;
        }
    }
    return acc;
}
C
            j=$((j + 1))
        done
        echo "uint64_t unit$i(uint64_t seed)"
        echo "{"
        echo "    uint64_t acc = seed + $i;"
        j=0
        while [ "$j" -lt 6 ]; do
            echo "    acc = work$j(acc);"
            j=$((j + 1))
        done
        echo "    return acc;"
        echo "}"
    } > "$f"
    i=$((i + 1))
done
echo '#endif' >> "$dir/proj.h"
{
    echo '#include <stdio.h>'
    echo '#include "proj.h"'
    echo 'int main(void)'
    echo '{'
    echo '    uint64_t acc = 1;'
    i=0
    while [ "$i" -lt "$n" ]; do
        echo "    acc = unit$i(acc);"
        i=$((i + 1))
    done
    printf '%s\n' '    printf("%llu\n", (unsigned long long)acc);'
    echo '    return 0;'
    echo '}'
} > "$dir/main.c"
cat > "$dir/build.sh" <<'B'
#!/bin/sh
# build.sh SRC WORK: copies SRC to WORK, compiles every unit with gcc -O2, links, runs.
set -e
mkdir -p "$2"
cp "$1"/*.c "$1"/*.h "$2"/
cd "$2"
for f in *.c; do
    gcc -O2 -c "$f"
done
gcc -O2 -o app ./*.o
./app
B
chmod +x "$dir/build.sh"

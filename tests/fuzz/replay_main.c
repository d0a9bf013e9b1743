/* replay_main.c - runs a libFuzzer harness over every file of its seed
 * directories without libFuzzer, so plain ctest (any compiler) replays the
 * seeds and every input that once crashed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds are small; a bigger file is a mistake in the corpus. */
#define REPLAY_MAX_FILE (16u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    uint8_t *buf = malloc(REPLAY_MAX_FILE);
    size_t n = buf ? fread(buf, 1, REPLAY_MAX_FILE, f) : 0;
    fclose(f);
    if (!buf) return -1;
    /* an exact-size copy, so a sanitizer build catches overreads */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) { perror(argv[i]); return 1; }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (replay_file(path)) { closedir(d); return 1; }
            files++;
        }
        closedir(d);
    }
    printf("%d inputs replayed\n", files);
    return files ? 0 : 1;
}

// What a lab VM boots, fetched with apt and cached (docs/LAB.md, "The cache"):
//   CACHE/debs/                 the downloaded .deb files
//   CACHE/kernel/VERSION/       the kernel package unpacked (boot/vmlinuz-VERSION, lib/modules/
//                               VERSION/ with the modules.dep that depmod -b made)
//   CACHE/kernel/current        the VERSION in use (delete it, or --refresh, to fetch again)
//   CACHE/busybox/busybox       busybox from busybox-static
//   CACHE/initramfs/KEY.cpio    busybox + init + the modules, KEY = hash of what went in
// Everything happens under an exclusive flock on CACHE/lock, so concurrent runs share one fetch.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dvs::lab {

struct Image {
  std::string kernel;     // path of vmlinuz
  std::string initramfs;  // path of the cpio
  std::string version;    // kernel release, e.g. 6.1.0-56-amd64
};

// The modules the guest loads, in the order given (dependencies are added before each).
// Names as in modules.dep, '-' and '_' alike.
const std::vector<std::string>& wanted_modules();

// Load order for `wanted` from the text of modules.dep (each module after its dependencies,
// each once). Modules in `builtin` (names) need no loading. On a wanted module that is neither
// in modules.dep nor built in: false and *missing names it.
bool module_load_order(const std::string& modules_dep, const std::vector<std::string>& builtin,
                       const std::vector<std::string>& wanted, std::vector<std::string>* order,
                       std::string* missing);

// Fetches what is missing from the cache and builds the initramfs. On failure: false, *err is
// one line, and *unavailable tells whether the machine cannot run the lab at all (no apt, no
// network, a tool missing) rather than something going wrong.
bool prepare_image(const std::string& cache, bool refresh, bool verbose, Image* out, std::string* err,
                   bool* unavailable);

}  // namespace dvs::lab

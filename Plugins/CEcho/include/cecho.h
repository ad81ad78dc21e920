/* cecho exports only berth_plugin_entry (declared in berth.h). SwiftPM wants
 * a public-headers folder for every C target; this file keeps it non-empty. */
#include <berth.h>

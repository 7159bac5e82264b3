// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpuvm_exerciser module entry: scenario table, module parameters and the
 * debugfs interface
 *   /sys/kernel/debug/gpuvm_exerciser/run         write a scenario name: runs it
 *                                                 synchronously in the writer
 *   /sys/kernel/debug/gpuvm_exerciser/iterations  rounds of "stress"
 *   /sys/kernel/debug/gpuvm_exerciser/scenarios   read: the known names
 */
#define pr_fmt(fmt) "gpuvm_exerciser: " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ex.h"

struct ex_scenario {
	const char *name;
	int (*run)(void);
};

static const struct ex_scenario ex_scenarios[] = {
	{ "g1", sc_g1 },
	{ "g2", sc_g2 },
	{ "stress", sc_stress },
	{ "concurrent", sc_concurrent },
	{ "resv-churn", sc_resv_churn },
	{ "midflight-setup", sc_midflight_setup },
	{ "midflight-finish", sc_midflight_finish },
	{ "demo", sc_demo },
	{ "extobj-add-unlocked", sc_extobj_add_unlocked },
	{ "evict-unlocked", sc_evict_unlocked },
	{ "obtain-unlocked", sc_obtain_unlocked },
	{ "link-unlocked", sc_link_unlocked },
	{ "put-final-unlocked", sc_put_final_unlocked },
	{ "unlink-unlocked", sc_unlink_unlocked },
	{ "double-put", sc_double_put },
	{ "destroy-while-mapped", sc_destroy_while_mapped },
	{ "use-after-free", sc_use_after_free },
	{ "prealloc-reused", sc_prealloc_reused },
	{ "link-unregistered", sc_link_unregistered },
	{ "vm-bo-leak-at-vm-destroy", sc_vm_bo_leak_at_vm_destroy },
	{ "alloc-free-asymmetric", sc_alloc_free_asymmetric },
	{ "duplicate-vm-bo", sc_duplicate_vm_bo },
	{ "lock-unbalanced", sc_lock_unbalanced },
	{ "extobj-missing", sc_extobj_missing },
	{ "stack-memo", sc_stack_memo },
	/* immediate mode, gpuva.lock, deferred cleanup: -EOPNOTSUPP where absent */
	{ "g3", sc_g3 },
	{ "g3-put-deferred", sc_g3_put_deferred },
	{ "deferred-never-cleaned", sc_deferred_never_cleaned },
	{ "deferred-cleanup-resv-held", sc_deferred_cleanup_resv_held },
	{ "gpuva-lock-recursion", sc_gpuva_lock_recursion },
	{ "mode-mismatch", sc_mode_mismatch },
	{ "put-final-unlocked-mutex", sc_put_final_unlocked_mutex },
	{ "link-unlocked-mutex", sc_link_unlocked_mutex },
	{ "obtain-unlocked-mutex", sc_obtain_unlocked_find },
	{ "gem-freed-under-gpuva-lock", sc_gem_freed_under_gpuva_lock },
};

static char *scenario;
module_param(scenario, charp, 0444);
MODULE_PARM_DESC(scenario, "scenario to run at load time (see the scenarios debugfs file)");
module_param_named(iterations, ex_iterations, uint, 0644);
MODULE_PARM_DESC(iterations, "bind/unbind rounds of the stress scenario (default 1000)");

/* Scenarios share the parking list, the alloc hook and midflight state. */
static DEFINE_MUTEX(ex_run_mutex);
static struct dentry *ex_debugfs;

static const struct ex_scenario *ex_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ex_scenarios); i++)
		if (!strcmp(ex_scenarios[i].name, name))
			return &ex_scenarios[i];
	return NULL;
}

static int ex_run(const char *name)
{
	const struct ex_scenario *sc = ex_find(name);
	int ret;

	if (!sc) {
		pr_err("unknown scenario \"%s\": read /sys/kernel/debug/gpuvm_exerciser/scenarios for the names\n",
		       name);
		return -EINVAL;
	}
	mutex_lock(&ex_run_mutex);
	ret = sc->run();
	mutex_unlock(&ex_run_mutex);
	if (ret)
		pr_err("scenario %s failed: %d\n", sc->name, ret);
	else
		pr_info("scenario %s done\n", sc->name);
	return ret;
}

static ssize_t ex_run_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[64];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	ret = ex_run(strim(buf));
	return ret ? ret : len;
}

static const struct file_operations ex_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = ex_run_write,
	.llseek = noop_llseek,
};

static int ex_scenarios_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ex_scenarios); i++)
		seq_printf(m, "%s\n", ex_scenarios[i].name);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ex_scenarios);

static int __init ex_init(void)
{
	int ret;

	if (scenario && !ex_find(scenario)) {
		pr_err("unknown scenario \"%s\" given as scenario=; the names are in tests/vm/exerciser/README.md\n",
		       scenario);
		return -EINVAL;
	}
	ret = ex_core_init();
	if (ret) {
		pr_err("cannot create the DRM device: %d (are drm, drm_exec and drm_gpuvm loaded?)\n",
		       ret);
		return ret;
	}
	ex_debugfs = debugfs_create_dir("gpuvm_exerciser", NULL);
	debugfs_create_file("run", 0200, ex_debugfs, NULL, &ex_run_fops);
	debugfs_create_file("scenarios", 0444, ex_debugfs, NULL, &ex_scenarios_fops);
	debugfs_create_u32("iterations", 0644, ex_debugfs, &ex_iterations);

	/*
	 * A failed scenario may have leaked objects that point into this
	 * module (it pinned itself): the load must then still succeed.
	 */
	if (scenario)
		ex_run(scenario);
	return 0;
}

static void __exit ex_exit(void)
{
	debugfs_remove_recursive(ex_debugfs);
	ex_midflight_fini();
	ex_core_fini();
}

module_init(ex_init);
module_exit(ex_exit);

MODULE_DESCRIPTION("drm_gpuvm lifecycle exerciser for gpuvm-trace (commits bugs on purpose)");
MODULE_LICENSE("GPL");
#ifdef EX_IMPORT_NS_STRING
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tasks_app.importer.evaluation import evaluate, read_labels


class Command(BaseCommand):
    help = (
        "Parse every report (*.txt) in a folder and print what the importer makes of each: plan "
        "part, sections, key areas, items, headline targets, indicators, warnings; with --labels, "
        "recall and precision of the labelled targets. Exits non-zero under the thresholds."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--labels", help="folder of labels_*.json files")
        parser.add_argument("--min-plausible", type=float, default=0.95)
        parser.add_argument("--min-recall", type=float, default=0.95)
        parser.add_argument("--min-precision", type=float, default=0.90)
        parser.add_argument("--verbose-targets", action="store_true", help="list missed/extra")

    def handle(self, *args, folder, labels, min_plausible, min_recall, min_precision, **options):
        folder_path = Path(folder)
        if not folder_path.is_dir():
            raise CommandError(f"not a folder: {folder}")
        label_data = read_labels(Path(labels)) if labels else {}
        results = evaluate(folder_path, label_data)
        if not results:
            raise CommandError(f"no *.txt reports in {folder}")
        for result in results:
            self._report(result, options["verbose_targets"])
        failures = self._summary(results, min_plausible, min_recall, min_precision)
        if failures:
            raise CommandError("; ".join(failures))

    def _report(self, result, verbose: bool) -> None:
        draft, counts = result.draft, result.counts
        mark = "OK " if result.plausible else ("-- " if result.kind == "work_report" else "n/a")
        heads = draft["headline_targets"]
        line = (
            f"{mark} {result.name} ({result.year}) plan part “{draft['plan_part']['heading']}”: "
            f"{counts['sections']} sections, {counts['key_areas']} key areas, "
            f"{counts['tasks'] - len(heads)} items, {len(heads)} headline targets, "
            f"{counts['indicators']} indicators"
        )
        if result.recall is not None:
            line += f"; targets recall {result.recall:.3f}, precision {result.precision:.3f}"
        if result.crashed:
            line += f"; CRASHED {result.crashed}"
        self.stdout.write(line)
        if heads:
            shown = "; ".join(head["source_text"][:30] for head in heads[:4])
            self.stdout.write(f"      headline: {shown}{' ...' if len(heads) > 4 else ''}")
        for warning in draft["warnings"]:
            self.stdout.write(f"      warning: {warning}")
        if verbose:
            for target in result.missed:
                self.stdout.write(f"      missed: {target['text']} = {target['value']}")
            for item in result.extra:
                self.stdout.write(f"      extra: {item['text']} = {item['value']}{item['unit']}")

    def _summary(self, results, min_plausible, min_recall, min_precision) -> list[str]:
        crashes = [r.name for r in results if r.crashed]
        work = [r for r in results if r.kind == "work_report"]
        apart = [f"{r.name} ({r.kind})" for r in results if r.kind != "work_report"]
        plausible = sum(r.plausible for r in work) / max(1, len(work))
        self.stdout.write(
            f"\n{len(results)} reports, {len(crashes)} crashes; told apart (no plan): "
            f"{', '.join(apart) or 'none'}\n"
            f"plausible structure (plan part, ≥3 sections, ≥30 items): "
            f"{sum(r.plausible for r in work)}/{len(work)} work reports = {plausible:.3f}"
        )
        failures = [f"crashed on {', '.join(crashes)}"] if crashes else []
        if plausible < min_plausible:
            failures.append(f"plausible structure {plausible:.3f} < {min_plausible}")
        labelled = [r for r in results if r.recall is not None]
        if labelled:
            failures += self._targets(labelled, min_recall, min_precision)
        return failures

    def _targets(self, labelled, min_recall, min_precision) -> list[str]:
        """Over all labelled targets together, so a report with many targets weighs more."""
        hits = sum(r.hits for r in labelled)
        recall = hits / max(1, sum(r.labels for r in labelled))
        precision = hits / max(1, sum(r.found for r in labelled))
        self.stdout.write(
            f"targets on {len(labelled)} labelled reports ({sum(r.labels for r in labelled)} "
            f"labels): recall {recall:.3f}, precision {precision:.3f}"
        )
        failures = []
        if recall < min_recall:
            failures.append(f"target recall {recall:.3f} < {min_recall}")
        if precision < min_precision:
            failures.append(f"target precision {precision:.3f} < {min_precision}")
        return failures

#include "flowood/experiment/aggregate.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/experiment/sweep.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/curves.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string md_table(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "|";
    for (const auto& c : rows[r]) out += " " + c + " |";
    out += "\n";
    if (r == 0) {
      out += "|";
      for (size_t c = 0; c < rows[0].size(); ++c) out += "---|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

Aggregate aggregate_sweep(const std::string& dir, const std::string& metric) {
  const auto plan = read_sweep(dir);
  // Columns: every (method, ood set) any finished run reports, then the mean bits/dim of every
  // scored set (the fit the result tables show beside the metric).
  std::vector<std::string> columns, bpd_columns;
  std::map<std::string, std::map<std::string, double>> values;  // run → column → metric
  std::vector<std::string> missing, failed;
  for (const auto& run : plan.runs) {
    const auto exit_file = dir + "/logs/" + run.name + ".exit";
    const auto metrics = run.run_dir + "/metrics.json";
    if (!fs::exists(metrics)) {
      std::string code = fs::exists(exit_file) ? io::read_file(exit_file) : std::string();
      while (!code.empty() && (code.back() == '\n')) code.pop_back();
      (code.empty() || code == "0" ? missing : failed)
          .push_back(code.empty() || code == "0" ? run.name : fmt::format("{} (exit {}, log {}/logs/{}.log)", run.name, code, dir, run.name));
      continue;
    }
    const auto j = io::read_json_file(metrics);
    try {
      const auto& list = io::json_at(j, j.contains("methods") ? "methods" : "ood");
      for (const auto& e : list) {
        const auto method = e.contains("method") ? io::json_string(io::json_at(e, "method")) : std::string("loglik");
        if (!e.contains(metric)) throw IoError(metrics, fmt::format("no metric '{}'", metric));
        const auto column = fmt::format("{} {} vs {}", method, metric, io::json_string(io::json_at(e, "dataset")));
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
        values[run.name][column] = io::json_number(io::json_at(e, metric));
      }
      if (j.contains("datasets"))
        for (const auto& d : io::json_at(j, "datasets")) {
          if (!d.contains("bpd_mean")) continue;
          const auto column = "bits/dim " + io::json_string(io::json_at(d, "dataset"));
          if (std::find(bpd_columns.begin(), bpd_columns.end(), column) == bpd_columns.end()) bpd_columns.push_back(column);
          values[run.name][column] = io::json_number(io::json_at(d, "bpd_mean"));
        }
    } catch (const DataError& e) {
      throw IoError(metrics, std::string("malformed metrics file: ") + e.what());
    }
  }
  columns.insert(columns.end(), bpd_columns.begin(), bpd_columns.end());
  // Per run.
  std::vector<std::string> header{"run"};
  header.insert(header.end(), plan.axes.begin(), plan.axes.end());
  header.insert(header.end(), columns.begin(), columns.end());
  std::vector<std::vector<std::string>> rows{header};
  std::string csv;
  for (size_t c = 0; c < header.size(); ++c) csv += (c ? "," : "") + csv_field(header[c]);
  csv += "\n";
  for (const auto& run : plan.runs) {
    if (!values.count(run.name)) continue;
    std::vector<std::string> row{run.name};
    for (const auto& [k, v] : run.values) row.push_back(v);
    for (const auto& c : columns)
      row.push_back(values[run.name].count(c) ? fmt::format("{:.4f}", values[run.name][c]) : "");
    for (size_t c = 0; c < row.size(); ++c) csv += (c ? "," : "") + csv_field(row[c]);
    csv += "\n";
    rows.push_back(std::move(row));
  }
  // Mean ± sd over seeds: group by every axis but `seed`.
  std::vector<std::string> group_axes;
  for (const auto& a : plan.axes)
    if (a != "seed") group_axes.push_back(a);
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<std::string>> group_runs;
  std::map<std::string, std::vector<std::string>> group_values;
  for (const auto& run : plan.runs) {
    if (!values.count(run.name)) continue;
    std::vector<std::string> key_parts;
    for (const auto& [k, v] : run.values)
      if (k != "seed") key_parts.push_back(v);
    const auto key = fmt::format("{}", fmt::join(key_parts, " | "));
    if (!group_runs.count(key)) {
      group_order.push_back(key);
      group_values[key] = key_parts;
    }
    group_runs[key].push_back(run.name);
  }
  std::vector<std::string> gheader = group_axes;
  gheader.push_back("runs");
  gheader.insert(gheader.end(), columns.begin(), columns.end());
  std::vector<std::vector<std::string>> grows{gheader};
  for (const auto& key : group_order) {
    auto row = group_values[key];
    row.push_back(std::to_string(group_runs[key].size()));
    for (const auto& c : columns) {
      std::vector<double> v;
      for (const auto& name : group_runs[key])
        if (values[name].count(c)) v.push_back(values[name][c]);
      const auto ms = ood::mean_sd(v);
      row.push_back(v.empty() ? "" : v.size() == 1 ? fmt::format("{:.4f}", ms.mean) : fmt::format("{:.4f} ± {:.4f}", ms.mean, ms.sd));
    }
    grows.push_back(std::move(row));
  }
  std::string md = fmt::format("# Sweep {}\n\n{} of {} runs finished ({}; grid {}).\n\n## Every run\n\n{}", plan.name,
                               values.size(), plan.runs.size(), metric, plan.grid, md_table(rows));
  md += fmt::format("\n## Mean ± sd over seeds\n\n{}", md_table(grows));
  if (!missing.empty()) md += fmt::format("\n## Missing (not run or not finished)\n\n- {}\n", fmt::join(missing, "\n- "));
  if (!failed.empty()) md += fmt::format("\n## Failed\n\n- {}\n", fmt::join(failed, "\n- "));
  return {csv, md};
}

}  // namespace flowood::experiment

using Microsoft.Extensions.Options;

namespace Pipeline;

/// <summary>
/// Checks the ranges of a stage's <see cref="StageOptions"/> (source-generated from their <see cref="SettingRangeAttribute"/>s);
/// validate under the stage's key, e.g. <c>Pipelines:access-logs:Stages:parse</c>. Rules that depend on the kind of stage are
/// <see cref="PipelineOptionsValidator"/>'s.
/// </summary>
[OptionsValidator]
internal sealed partial class StageOptionsValidator : IValidateOptions<StageOptions>;

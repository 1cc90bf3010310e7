% SPDX-License-Identifier: BSD-3-Clause
function opts = smi_parse_options(args, opts, caller)
  % SMI_PARSE_OPTIONS  (internal) Name/value pairs ARGS over the defaults OPTS.
  %
  %   opts = smi_parse_options({'Name', value, ...}, defaults, 'caller')
  %   matches names case-insensitively against the fields of DEFAULTS and
  %   raises smi:usage for an unknown name or a name without a value.
  if mod(numel(args), 2) ~= 0
    error('smi:usage', '%s: options come in name/value pairs', caller);
  end
  names = fieldnames(opts);
  for i = 1:2:numel(args)
    name = args{i};
    if ~ischar(name)
      error('smi:usage', '%s: option names are strings', caller);
    end
    match = find(strcmpi(name, names), 1);
    if isempty(match)
      error('smi:usage', '%s: unknown option ''%s'' (options: %s)', caller, name, ...
            strjoin(names', ', '));
    end
    opts.(names{match}) = args{i + 1};
  end
end

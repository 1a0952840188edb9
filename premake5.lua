-- kit-app-template (repo.sh build) integration: links this repository into the build as the
-- `backrooms` extension. Only needed for repo.sh builds; a plain `--ext-folder` checkout needs none.
-- Used from a kit-app-template checkout's source/extensions/backrooms/ (a symlink to this repo).
local ext = get_current_extension_info()
project_ext(ext)

repo_build.prebuild_link {
    { "exts", ext.target_dir.."/exts" },      -- the Python package (backrooms, backrooms.kit)
    { "usd", ext.target_dir.."/usd" },        -- hallway prototypes and library manifest
    { "models", ext.target_dir.."/models" },  -- shipped diffusion weights and model card
}
repo_build.prebuild_copy {
    { "extension.toml", ext.target_dir.."/extension.toml" },
}

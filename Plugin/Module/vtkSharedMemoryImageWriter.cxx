// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryImageWriter.h"

#include "vtkDataArray.h"
#include "vtkErrorCode.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"

#include "shared_memory_image.h"
#include "vtkSharedMemoryImageFormats.h"

#include <unistd.h>

#include <chrono>
#include <string>

vtkStandardNewMacro(vtkSharedMemoryImageWriter);

// The served stream, kept open from one Write() to the next.
struct vtkSharedMemoryImageWriter::vtkInternals
{
  SharedMemoryImageStream Stream = nullptr;
  std::string ServedFile; // the file Stream serves
  bool ServedEnSight = false;
  vtkTypeUInt32 LastFrame = 0;

  void Close()
  {
    if (this->Stream)
    {
      SharedMemoryImageStream_destroy(this->Stream);
      this->Stream = nullptr;
    }
    this->ServedFile.clear();
  }
};

namespace
{
// Stream format of an image's scalars, or -1 (and *why) when not publishable.
int SMIFormatOf(vtkDataArray* scalars, const char** why)
{
  if (!scalars)
  {
    *why = "the input has no point scalars";
    return -1;
  }
  const int type = scalars->GetDataType();
  const int comps = scalars->GetNumberOfComponents();
  const int format = smi::FormatOfVTKType(type, comps);
  if (format >= 0)
  {
    return format;
  }
  if (type == VTK_UNSIGNED_CHAR)
  {
    *why = "unsigned char scalars must have 1, 3 or 4 components";
    return -1;
  }
  if (type == VTK_UNSIGNED_SHORT || type == VTK_FLOAT)
  {
    *why = "unsigned short and float scalars must have 1 component";
    return -1;
  }
  *why = "the scalar type must be unsigned char (1, 3 or 4 components), unsigned short or "
         "float (1 component)";
  return -1;
}

double SMIUnixTime()
{
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}
}

//------------------------------------------------------------------------------
vtkSharedMemoryImageWriter::vtkSharedMemoryImageWriter()
  : Internals(new vtkInternals)
{
  this->SetNumberOfOutputPorts(0);
}

//------------------------------------------------------------------------------
vtkSharedMemoryImageWriter::~vtkSharedMemoryImageWriter()
{
  this->Internals->Close();
  this->SetFileName(nullptr);
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageWriter::FillInputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkImageData");
  return 1;
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageWriter::Write()
{
  this->SetErrorCode(vtkErrorCode::NoError);
  if (!this->GetInputConnection(0, 0))
  {
    vtkErrorMacro(<< "no input: connect an image first");
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }
  // Always execute: writing the same image again publishes it again.
  this->Modified();
  this->UpdateWholeExtent();
  return this->GetErrorCode() == vtkErrorCode::NoError ? 1 : 0;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageWriter::ReleaseStream()
{
  this->Internals->Close();
}

//------------------------------------------------------------------------------
vtkTypeUInt32 vtkSharedMemoryImageWriter::GetLastFrameNumber()
{
  return this->Internals->LastFrame;
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageWriter::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector*)
{
  vtkInternals& internals = *this->Internals;
  if (!this->FileName || !*this->FileName)
  {
    vtkErrorMacro(<< "no FileName: set the stream file to serve");
    this->SetErrorCode(vtkErrorCode::NoFileNameError);
    return 0;
  }
  vtkImageData* input = vtkImageData::GetData(inputVector[0]);
  if (!input)
  {
    vtkErrorMacro(<< "the input is not vtkImageData");
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }

  vtkDataArray* scalars = input->GetPointData()->GetScalars();
  const char* why = "";
  const int format = SMIFormatOf(scalars, &why);
  if (format < 0)
  {
    vtkErrorMacro(<< "cannot publish to " << this->FileName << ": " << why
                  << (scalars ? " (got " : "")
                  << (scalars ? scalars->GetDataTypeAsString() : "")
                  << (scalars ? ", " : "")
                  << (scalars ? std::to_string(scalars->GetNumberOfComponents()) : "")
                  << (scalars ? " components)" : ""));
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }

  int dims[3];
  input->GetDimensions(dims);
  if (dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 ||
    scalars->GetNumberOfTuples() != static_cast<vtkIdType>(dims[0]) * dims[1] * dims[2])
  {
    vtkErrorMacro(<< "cannot publish to " << this->FileName << ": the input image is empty");
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }
  if (this->EnSightLayout && (format != IMAGESTREAM_FORMAT_RGB8 || dims[2] != 1))
  {
    vtkErrorMacro(<< "cannot publish to " << this->FileName
                  << ": EnSight's layout takes only 2-D RGB images (unsigned char, 3 "
                     "components, one slice); turn EnSightLayout off for other images");
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }

  SharedMemoryImageDesc desc = {};
  desc.format = static_cast<uint32_t>(format);
  desc.width = static_cast<uint32_t>(dims[0]);
  desc.height = static_cast<uint32_t>(dims[1]);
  desc.depth = static_cast<uint32_t>(dims[2]);
  desc.timestamp = SMIUnixTime();
  input->GetSpacing(desc.spacing);
  // The origin of the first pixel, extent offsets included.
  int extent[6];
  input->GetExtent(extent);
  input->TransformIndexToPhysicalPoint(extent[0], extent[2], extent[4], desc.origin);

  if (internals.Stream &&
    (internals.ServedFile != this->FileName || internals.ServedEnSight != this->EnSightLayout))
  {
    internals.Close();
  }

  // Rows are bottom first in VTK: FLIPVERTICAL turns them upright while copying.
  const void* pixels = scalars->GetVoidPointer(0);
  // Attempt 0 publishes on the open stream; when the frame is too large (or
  // the file was truncated), attempt 1 grows the file and serves it again
  // (that gives bigger buffers only while no client is attached); when the
  // frame is still too large, attempt 2 replaces the
  // file by a new one (clients attached to the old file must attach again, as
  // vtkSharedMemoryImageSource does by itself).
  for (int attempt = 0; attempt < 3; ++attempt)
  {
    if (!internals.Stream)
    {
      // Not serving it (yet): create or grow the file so that the frame fits.
      SharedMemoryImageError rc = SharedMemoryImageStream_createfilelayout(this->FileName,
        this->EnSightLayout ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED, &desc);
      if (rc < IMAGESTREAM_NOERROR)
      {
        vtkErrorMacro(<< "cannot create " << this->FileName << ": "
                      << SharedMemoryImageStream_errorstring(rc));
        this->SetErrorCode(vtkErrorCode::CannotOpenFileError);
        return 0;
      }
      const uint32_t options = IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_FLIPVERTICAL |
        (this->EnSightLayout ? 0u : static_cast<uint32_t>(IMAGESTREAM_OPTIONS_EXTENDED));
      rc = SharedMemoryImageStream_create(this->FileName, options, &internals.Stream);
      if (rc < IMAGESTREAM_NOERROR)
      {
        internals.Stream = nullptr;
        vtkErrorMacro(<< "cannot serve " << this->FileName << ": "
                      << SharedMemoryImageStream_errorstring(rc));
        this->SetErrorCode(vtkErrorCode::CannotOpenFileError);
        return 0;
      }
      internals.ServedFile = this->FileName;
      internals.ServedEnSight = this->EnSightLayout;
    }

    const SharedMemoryImageError rc =
      SharedMemoryImageStream_putframeformat(internals.Stream, &desc, internals.LastFrame + 1, pixels);
    if (rc == IMAGESTREAM_BAD_FILE_SIZE && attempt == 0)
    {
      // The file was truncated under the stream: set it up anew (clients
      // that still map it see the new server, as after a restart).
      vtkWarningMacro(<< "the stream file " << this->FileName
                      << " was truncated under its server; setting it up again");
      internals.Close();
      continue;
    }
    if (rc == IMAGESTREAM_FRAME_TOO_LARGE && attempt < 2)
    {
      internals.Close();
      if (attempt == 1)
      {
        vtkWarningMacro(<< "a " << desc.width << "x" << desc.height << "x" << desc.depth << " "
                        << SharedMemoryImageStream_formatname(desc.format)
                        << " frame does not fit the buffers of " << this->FileName
                        << " while clients are attached: replacing it by a larger file "
                           "(clients must attach again)");
        unlink(this->FileName);
      }
      continue;
    }
    if (rc < IMAGESTREAM_NOERROR)
    {
      vtkErrorMacro(<< "cannot publish to " << this->FileName << ": "
                    << SharedMemoryImageStream_errorstring(rc));
      this->SetErrorCode(vtkErrorCode::UnknownError);
      return 0;
    }
    // NOERROR, UNCONNECTED or NO_BUFFERAVAILABLE: normal for a live stream.
    SharedMemoryStreamInfo info;
    if (SharedMemoryImageStream_info(internals.Stream, &info) == IMAGESTREAM_NOERROR)
    {
      internals.LastFrame = info.last_frame;
    }
    return 1;
  }
  return 0;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageWriter::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << (this->FileName ? this->FileName : "(none)") << "\n";
  os << indent << "EnSightLayout: " << (this->EnSightLayout ? "On" : "Off") << "\n";
  os << indent << "Serving: "
     << (this->Internals->Stream ? this->Internals->ServedFile.c_str() : "(nothing)") << "\n";
  os << indent << "LastFrameNumber: " << this->Internals->LastFrame << "\n";
}
